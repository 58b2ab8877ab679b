"""Pure incident analysis: the domain model, C leak analysis, commit correlation, fixes, reports.

Nothing in this package performs I/O, starts processes or imports Textual or a network client;
``tests/test_layering.py`` enforces that.
"""
