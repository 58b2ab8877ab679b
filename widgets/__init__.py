"""Presentational widgets: they display frozen data handed down by the screen and never fetch."""
