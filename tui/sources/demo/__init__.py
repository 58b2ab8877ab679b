"""The local demo: a real git repository, a real leaking worker under a real memory limit, and a
SQLite stand-in for PagerDuty. See :class:`DemoScenario`."""

from tui.sources.demo.scenario import DemoScenario
from tui.sources.demo.store import IncidentStore
from tui.sources.demo.supervisor import WorkerSupervisor

__all__ = ["DemoScenario", "IncidentStore", "WorkerSupervisor"]
