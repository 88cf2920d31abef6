"""How work runs: the one core count, forked worker processes and dask.

Executors map a function over parts of a frame and return the results in order; they know
nothing of what the function does (screening, classification). What they share:

- :func:`available_cores` — the cores this process may run on (its affinity mask, not the
  machine's CPU count: a container given 2 of 16 CPUs runs 2 threads, not 16), and
  :func:`check_jobs`, the one check of an ``n_jobs`` argument; the overlay engine's threads,
  the forked workers and the entries all count with them.
- :func:`fork_map` — consecutive row chunks of a frame on worker processes forked from this
  one (Linux): the workers inherit the function and the frame (and everything the function
  refers to, such as a planning with its prepared layers), nothing is pickled on the way in.
- :func:`dask_map` — the partitions of a dask-geopandas frame on dask's local schedulers or a
  distributed cluster, with :func:`broadcast` sending shared values once (a planning is kept on
  the workers while the caller holds it), and :func:`to_dask`, the one partitioning policy.

Warnings raised in other processes are sent back and re-issued here once each; errors are
re-raised; a worker that dies is an error (``BrokenProcessPool``), never a result.
"""

from __future__ import annotations

import multiprocessing
import os
import pickle
import sys
import tempfile
import uuid
import warnings
import weakref
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor
from typing import TYPE_CHECKING, Any

import geopandas as gpd

from redline.errors import ArgumentError

if TYPE_CHECKING:
    import dask_geopandas
    import distributed

__all__ = [
    "available_cores",
    "broadcast",
    "check_jobs",
    "current_client",
    "dask_map",
    "fork_map",
    "fork_workers",
    "is_dask_frame",
    "to_dask",
]

#: Chunks per worker process (load balance), each of at most :data:`MAX_CHUNK` rows (a
#: worker's memory: screening 1e6 sites on 2 workers peaked at 3.9 GB, caller and workers
#: together, with chunks of 100,000, at 3.6 GB with 50,000). Chunks are consecutive rows:
#: chunks of nearby sites (Hilbert order; smaller raster windows) were 1.29x against 1.2x at
#: 20,000 sites but 1.53x against 1.65x at 100,000, their costs being uneven.
CHUNKS_PER_WORKER = 4
MAX_CHUNK = 50_000
#: Free space ``/dev/shm`` needs for forked workers to leave their results there (~25 MB per
#: chunk of 50,000 sites, a few at a time): else they go to the system's temporary folder.
SPILL_MIN_FREE = 1 << 30
#: Partitions per dask worker in :func:`to_dask` (load balance over uneven partitions).
PARTITIONS_PER_WORKER = 2

#: What forked workers run, by job token, and the folder they leave results in: set before
#: the fork, so the workers inherit it.
_FORKED: dict[str, tuple[Callable[[gpd.GeoDataFrame], Any], gpd.GeoDataFrame, str]] = {}
#: Values scattered to distributed workers and kept, by value and client id (see :func:`_scatter`).
_SCATTERED: weakref.WeakKeyDictionary[Any, dict[str, Any]] = weakref.WeakKeyDictionary()

#: Warnings caught in another process: (category, message) pairs.
_Caught = list[tuple[type[Warning], str]]


# -- cores -----------------------------------------------------------------------------------
def available_cores() -> int:
    """Cores this process may run on: its CPU affinity where the platform has one.

    Returns
    -------
    int
        At least 1.

    Examples
    --------
    >>> available_cores() >= 1
    True
    """
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return os.cpu_count() or 1


def check_jobs(n_jobs: int | None) -> int:
    """The cores an ``n_jobs`` argument asks for: ``None`` is every available core.

    Parameters
    ----------
    n_jobs
        What a caller passed as ``n_jobs=``.

    Returns
    -------
    int
        ``n_jobs``, or :func:`available_cores` for ``None``.

    Raises
    ------
    ArgumentError
        ``n_jobs`` below 1.

    Examples
    --------
    >>> check_jobs(3), check_jobs(None) == available_cores()
    (3, True)
    >>> check_jobs(0)
    Traceback (most recent call last):
    ...
    redline.errors.ArgumentError: n_jobs must be at least 1; received 0
    """
    if n_jobs is None:
        return available_cores()
    if n_jobs < 1:
        raise ArgumentError(f"n_jobs must be at least 1; received {n_jobs}")
    return n_jobs


# -- forked worker processes ---------------------------------------------------------------
def fork_workers(n_items: int, n_jobs: int | None, *, minimum: int) -> int:
    """How many worker processes to fork for a batch of ``n_items`` (1: none, run here).

    Parameters
    ----------
    n_items
        Sites or parcels in the batch.
    n_jobs
        Cores the caller allows (``None``: every core this process may run on).
    minimum
        Fewest items worth forking for (:data:`redline.run.api.FORK_MIN_SITES`,
        :data:`redline.run.api.FORK_MIN_PARCELS`).

    Returns
    -------
    int
        ``min(n_jobs, cores)`` on Linux for a batch of at least ``minimum`` items, else 1.

    Raises
    ------
    ArgumentError
        ``n_jobs`` below 1.

    Examples
    --------
    >>> fork_workers(100, 2, minimum=20_000)
    1
    >>> fork_workers(1_000_000, 1, minimum=20_000)
    1
    """
    jobs = check_jobs(n_jobs)
    # fork only where it is the platform's own way (not macOS, where it is unsafe)
    forkable = (
        sys.platform.startswith("linux") and "fork" in multiprocessing.get_all_start_methods()
    )
    if not forkable or n_items < minimum:
        return 1
    return max(1, min(jobs, available_cores(), n_items // max(1, minimum // 2)))


def fork_map(
    func: Callable[[gpd.GeoDataFrame], Any],
    frame: gpd.GeoDataFrame,
    *,
    n_jobs: int,
    progress: bool = False,
    desc: str = "chunks",
) -> list[Any]:
    """``func`` on consecutive row chunks of ``frame`` in forked processes; results in order.

    The workers are forked after ``func`` and ``frame`` are registered, so they inherit both
    (and everything ``func`` refers to) instead of receiving them pickled; the processes start
    before any progress-bar thread, and every other thread of redline's is finished by then.
    Chunks: :data:`CHUNKS_PER_WORKER` per worker, of at most :data:`MAX_CHUNK` rows.

    Parameters
    ----------
    func
        Called with each chunk (a slice of ``frame``) in a worker; its result must pickle.
    frame
        The rows to split.
    n_jobs
        Worker processes.
    progress
        Show a progress bar over the chunks.
    desc
        The progress bar's label.

    Returns
    -------
    list
        ``func``'s results, chunk by chunk in row order. Warnings the workers raised are
        issued here once each.

    Raises
    ------
    concurrent.futures.process.BrokenProcessPool
        A worker died.

    Examples
    --------
    >>> import shapely
    >>> frame = gpd.GeoDataFrame({"n": range(10)}, geometry=[shapely.Point(0, 0)] * 10)
    >>> fork_map(lambda chunk: int(chunk["n"].sum()), frame, n_jobs=2)
    [1, 5, 9, 13, 17]
    """
    from tqdm.auto import tqdm

    n = len(frame)
    size = min(MAX_CHUNK, max(1, -(-n // (n_jobs * CHUNKS_PER_WORKER))))
    bounds = [(start, min(start + size, n)) for start in range(0, n, size)]
    token = uuid.uuid4().hex
    try:
        with tempfile.TemporaryDirectory(prefix="redline-", dir=_spill_dir()) as spill:
            _FORKED[token] = (func, frame, spill)
            context = multiprocessing.get_context("fork")
            with ProcessPoolExecutor(max_workers=n_jobs, mp_context=context) as pool:
                results = pool.map(_run_forked, [(token, *b) for b in bounds])
                with tqdm(total=len(bounds), desc=desc, unit="chunk",
                          disable=not progress) as bar:
                    done = []
                    for path in results:
                        done.append(_unspill(path))
                        bar.update()
    finally:
        _FORKED.pop(token, None)
    _reissue(caught for _, caught in done)
    return [value for value, _ in done]


def _run_forked(task: tuple[str, int, int]) -> str:
    """In a forked worker: the registered function on rows ``start:stop`` of its frame; its
    result is left in a file of the spill folder, whose path is returned.

    A result sent through the pool's pipe would keep the worker waiting, 64 kB at a time, until
    the parent has read it all (~0.1 s per 25 MB on 2 busy cores); written to a file (in
    memory where ``/dev/shm`` has room), the worker goes on with its next chunk at once."""
    token, start, stop = task
    func, frame, spill = _FORKED[token]
    path = os.path.join(spill, f"{start}.pickle")
    with open(path, "wb") as file:
        pickle.dump(_call_capturing(func, frame.iloc[start:stop]), file,
                    protocol=pickle.HIGHEST_PROTOCOL)
    return path


def _unspill(path: str) -> Any:
    """A worker's result left at ``path``, the file removed."""
    with open(path, "rb") as file:
        value = pickle.load(file)
    os.remove(path)
    return value


def _spill_dir() -> str | None:
    """Where forked workers leave their results: ``/dev/shm`` (memory) if writable with
    :data:`SPILL_MIN_FREE` bytes free, else the system's temporary folder (a container's
    ``/dev/shm`` is often 64 MB: three results of 50,000 sites would not fit)."""
    shm = "/dev/shm"
    try:
        stat = os.statvfs(shm)
    except OSError:
        return None
    roomy = stat.f_bavail * stat.f_frsize >= SPILL_MIN_FREE
    return shm if roomy and os.access(shm, os.W_OK) else None


# -- dask ------------------------------------------------------------------------------------
def is_dask_frame(data: object) -> bool:
    """Whether ``data`` is a dask-geopandas GeoDataFrame (without importing dask otherwise).

    Parameters
    ----------
    data
        Anything.

    Returns
    -------
    bool

    Examples
    --------
    >>> import dask_geopandas, shapely
    >>> frame = gpd.GeoDataFrame(geometry=[shapely.Point(125.3, 43.9)], crs=4490)
    >>> is_dask_frame(frame), is_dask_frame(dask_geopandas.from_geopandas(frame, npartitions=1))
    (False, True)
    """
    module = type(data).__module__
    if not module.startswith(("dask_geopandas", "dask")):
        return False
    import dask_geopandas

    return isinstance(data, dask_geopandas.GeoDataFrame)


def current_client(client: distributed.Client | None = None) -> distributed.Client | None:
    """The client given, else the active distributed client, else ``None`` (local scheduler).

    Parameters
    ----------
    client
        A ``distributed.Client`` or ``None``.

    Returns
    -------
    distributed.Client or None

    Examples
    --------
    >>> current_client() is None  # no cluster running
    True
    """
    if client is not None:
        return client
    try:
        from distributed import Client
    except ImportError:  # pragma: no cover - distributed is a dependency
        return None
    try:
        return Client.current(allow_global=True)
    except ValueError:
        return None


def to_dask(
    frame: gpd.GeoDataFrame, client: distributed.Client | None
) -> dask_geopandas.GeoDataFrame:
    """``frame`` in partitions for dask: :data:`PARTITIONS_PER_WORKER` per worker of the
    client (one worker without a client), never more partitions than rows; dtypes kept.

    Parameters
    ----------
    frame
        The rows to partition (consecutive rows per partition, in order).
    client
        The ``distributed.Client`` that will run them, or ``None``.

    Returns
    -------
    dask_geopandas.GeoDataFrame

    Examples
    --------
    >>> import shapely
    >>> frame = gpd.GeoDataFrame({"n": range(10)}, geometry=[shapely.Point(0, 0)] * 10)
    >>> to_dask(frame, None).npartitions
    2
    """
    import dask
    import dask_geopandas

    workers = 1 if client is None else max(1, len(client.scheduler_info().get("workers", {})))
    partitions = min(PARTITIONS_PER_WORKER * workers, max(1, len(frame)))
    with dask.config.set({"dataframe.convert-string": False}):  # keep the frame's dtypes
        return dask_geopandas.from_geopandas(frame, npartitions=partitions)


def broadcast(client: distributed.Client | None, **values: Any) -> list[Any]:
    """Each value once for all partitions: scattered to every worker, or one graph node.

    A value that can be weakly referenced (a planning) is scattered once per client and kept
    there while it lives here, so that later calls find it on the workers with what they
    built from it (unpickling and preparing a planning again took ~0.3 s a worker per call).

    Parameters
    ----------
    client
        A ``distributed.Client``, or ``None`` for dask's local schedulers.
    **values
        The values, by name (the name labels the graph node).

    Returns
    -------
    list
        One reference per value, in order, to pass to :func:`dask_map`.

    Examples
    --------
    >>> [ref] = broadcast(None, answer=42)
    >>> ref.compute()
    42
    """
    import dask

    if client is not None:
        return [_scatter(client, value) for value in values.values()]
    token = uuid.uuid4().hex
    return [dask.delayed(value, name=f"redline-{name}-{token}") for name, value in values.items()]


def _scatter(client: distributed.Client, value: Any) -> Any:
    """``value`` on every worker of ``client``; kept per client while ``value`` lives."""
    try:
        kept = _SCATTERED.setdefault(value, {})
    except TypeError:  # not weakly referenceable: scattered for this call only
        return client.scatter(value, broadcast=True, hash=False)
    future = kept.get(client.id)
    if future is None or future.status != "finished":  # first call, or workers lost it
        future = kept[client.id] = client.scatter(value, broadcast=True, hash=False)
    return future


def dask_map(
    client: distributed.Client | None,
    func: Callable[..., Any],
    frame: dask_geopandas.GeoDataFrame,
    refs: list[Any],
    options: dict[str, Any],
    *,
    progress: bool = False,
    desc: str = "partitions",
) -> list[Any]:
    """``func(partition, *refs, **options)`` on every partition; results in partition order.

    On distributed workers (other processes) the warnings a partition raises are sent back and
    re-issued here once each; under the local threaded scheduler they reach the caller directly.

    Parameters
    ----------
    client
        A ``distributed.Client``, or ``None`` for dask's local scheduler.
    func
        Called with each partition (a GeoDataFrame), the ``refs`` and the ``options``.
    frame
        The partitions.
    refs
        Shared values from :func:`broadcast`.
    options
        Keyword arguments for ``func``.
    progress
        Show a progress bar over the partitions.
    desc
        The progress bar's label.

    Returns
    -------
    list
        ``func``'s results, one per partition, in order.

    Raises
    ------
    TypeError
        ``frame`` is not a dask-geopandas GeoDataFrame.

    Examples
    --------
    >>> import shapely
    >>> frame = gpd.GeoDataFrame({"n": range(10)}, geometry=[shapely.Point(0, 0)] * 10)
    >>> dask_map(None, lambda part, k: int(part["n"].sum()) * k, to_dask(frame, None),
    ...          broadcast(None, k=10), {})
    [100, 350]
    """
    import dask
    from tqdm.auto import tqdm

    if not is_dask_frame(frame):
        raise TypeError(f"expected a dask_geopandas.GeoDataFrame, not {type(frame).__name__}")
    token = uuid.uuid4().hex
    call = dask.delayed(_call_capturing if client is not None else func, pure=False)
    head = (func,) if client is not None else ()
    tasks = [
        call(*head, part, *refs, **options, dask_key_name=f"redline-{desc}-{token}-{i}")
        for i, part in enumerate(frame.to_delayed())
    ]
    bar = tqdm(total=len(tasks), desc=desc, unit="partition", disable=not progress)
    with bar:
        if client is None:
            from dask.callbacks import Callback

            def done(key: Any, *_: Any) -> None:
                if isinstance(key, str) and key.startswith(f"redline-{desc}-{token}-"):
                    bar.update()

            with Callback(posttask=done):
                return list(dask.compute(*tasks))
        from distributed import as_completed

        futures = client.compute(tasks)
        for _ in as_completed(futures, loop=client.loop):
            bar.update()
        results = client.gather(futures)
    _reissue(warned for _, warned in results)
    return [value for value, _ in results]


# -- warnings from other processes -----------------------------------------------------------
def _reissue(caught: Iterable[_Caught]) -> None:
    """Issue here, once each, the warnings other processes caught."""
    seen: set[tuple[type[Warning], str]] = set()
    for warned in caught:
        for category, message in warned:
            if (category, message) not in seen:
                seen.add((category, message))
                warnings.warn(message, category, stacklevel=4)


def _call_capturing(func: Callable[..., Any], *args: Any, **kwargs: Any) -> tuple[Any, _Caught]:
    """Run ``func`` on a worker, returning its result and the warnings it raised."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        value = func(*args, **kwargs)
    return value, [(w.category, str(w.message)) for w in caught]
