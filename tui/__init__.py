"""incident-tui: from an OOMKilled page to an open fix PR, in one Textual screen."""

__version__ = "0.1.0"
