"""Screens of the incident-tui app: the dashboard and its modals."""
