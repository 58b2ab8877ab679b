"""Stateful fakes of the vendor APIs incident-tui talks to, served over real HTTP on loopback."""
