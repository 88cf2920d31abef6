"""The bundled sample's generator, one module per layer kind.

The entry point is ``data/make_sample.py``.
"""
