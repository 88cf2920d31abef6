"""How a screening or a classification runs, apart from what it is.

- :mod:`redline.run.api` — the entries :func:`~redline.run.api.screen` and
  :func:`~redline.run.api.classify` (``redline.screen``, ``redline.classify``): arguments
  normalised once, then one of the executors below around the kernels
  :func:`redline.screening.screen_frame` and :func:`redline.zoning.classify_frame`;
- :mod:`redline.run.executors` — the one core count, forked worker processes, dask
  (they know nothing of screening or zoning);
- :mod:`redline.run.parts` — a partition screened on its own (probes) and parts put together;
- :mod:`redline.run.batch` — files larger than memory, chunk by chunk.

This package imports nothing at import time, so that the engine can use
:mod:`redline.run.executors` without importing the entries.
"""
