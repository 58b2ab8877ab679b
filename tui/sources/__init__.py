"""Adapters that do I/O and return :mod:`analysis.model` types.

Every source implements one of the protocols in :mod:`tui.sources.base`; the demo sources and the
live ones are interchangeable, so the screens never know which they talk to.
"""
