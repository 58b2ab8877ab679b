"""pytest fixtures for contract tests against live-like servers: our stateful fakes behind Prism.

Register with ``pytest_plugins = ["tests.fixtures_live"]`` at the top of a test module.

``pagerduty_stack`` (session) starts ``tests/fakes/pagerduty_fake.py`` on a free port and
``prism proxy --errors`` in front of it, validating both directions against PagerDuty's official
description. ``pagerduty`` (per test) resets the fake to :func:`build_pagerduty_seed` first, so
tests that write never see each other's changes.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.prism import (
    PAGERDUTY_ERRATA,
    PAGERDUTY_SPEC,
    PrismUnavailable,
    patched_spec,
    spec_path,
    fake_behind_prism,
)

FAKE_SCRIPT = Path(__file__).resolve().parent / "fakes" / "pagerduty_fake.py"
"""The fake PagerDuty server."""

USER_TOKEN = "pdtok-USER-9f8e7d6c5b4a-DO-NOT-LEAK"
"""A user-level key of Sam Okafor (recognisable, so tests can scan messages for it)."""
ACCOUNT_TOKEN = "pdtok-ACCOUNT-1a2b3c4d5e6f-DO-NOT-LEAK"
"""An account-level key: writes need ``From``."""
SAM, LENA, RAVI = "PUSR001", "PUSR002", "PUSR003"
"""User IDs."""
SAM_EMAIL = "sam.okafor@ads-demo.example.com"
"""A valid ``From`` for writes with the account key."""
ADS_SERVICE, CANARY_SERVICE, PAYMENTS_SERVICE = "PSVC001", "PSVC002", "PSVC003"
"""Service IDs."""
ADS_NAME = "ads-demo-service"
"""The mapped service's name (``ads-demo-service-canary`` also matches a substring query)."""
ADS_OPEN = 130
"""Open incidents seeded on ads-demo-service: more than one page of 100."""
OPEN_INCIDENT = "Q0OPEN0000TRIG"
"""A triggered ads-demo-service incident (the newest), with alerts and change events."""
ACKED_INCIDENT = "Q0OPEN00000ACK"
"""An acknowledged ads-demo-service incident."""
STORY_INCIDENT = "Q0STORY0000RES"
"""A resolved incident whose log holds every common entry type."""
NO_CHANGES_INCIDENT = "Q0PAYM00000403"
"""A payments incident whose change events are forbidden (403)."""
T0 = datetime(2024, 5, 1, 8, 0, tzinfo=UTC)
"""When the first seeded incident fired."""


def _iso(at: datetime) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%SZ")


def build_pagerduty_seed() -> dict[str, Any]:
    """The account the PagerDuty fake serves (its JSON seed)."""
    incidents: list[dict[str, Any]] = []
    for n in range(ADS_OPEN - 2):
        incidents.append({"id": f"Q0ADS{n:09d}", "number": 2000 + n, "title": f"worker restarts #{n}",
                          "service": ADS_SERVICE, "status": "triggered" if n % 2 else "acknowledged",
                          "urgency": "high", "created_at": _iso(T0 + timedelta(minutes=n)), "assignee": SAM,
                          **({"acknowledgements": [{"at": _iso(T0 + timedelta(minutes=n, seconds=30)), "user": SAM}]}
                             if n % 2 == 0 else {})})
    newest = T0 + timedelta(minutes=ADS_OPEN + 10)
    incidents += [
        {"id": OPEN_INCIDENT, "number": 3001, "title": "worker-container OOMKilled", "service": ADS_SERVICE,
         "status": "triggered", "urgency": "high", "created_at": _iso(newest), "assignee": SAM, "priority": "P1"},
        {"id": ACKED_INCIDENT, "number": 3000, "title": "worker memory above 90%", "service": ADS_SERVICE,
         "status": "acknowledged", "urgency": "low", "created_at": _iso(newest - timedelta(minutes=5)),
         "assignee": SAM, "acknowledgements": [{"at": _iso(newest - timedelta(minutes=4)), "user": SAM}]},
        {"id": STORY_INCIDENT, "number": 1500, "title": "worker OOMKilled last week", "service": ADS_SERVICE,
         "status": "resolved", "urgency": "high", "created_at": _iso(T0 - timedelta(days=7)),
         "resolved_at": _iso(T0 - timedelta(days=7) + timedelta(hours=1))},
        {"id": NO_CHANGES_INCIDENT, "number": 3002, "title": "payments latency", "service": PAYMENTS_SERVICE,
         "status": "triggered", "urgency": "high", "created_at": _iso(newest + timedelta(minutes=1)), "assignee": RAVI},
    ]
    incidents += [{"id": f"Q0CAN{n:09d}", "number": 4000 + n, "title": f"canary {n}", "service": CANARY_SERVICE,
                   "status": "triggered", "urgency": "low", "created_at": _iso(newest + timedelta(minutes=2 + n))}
                  for n in range(5)]
    incidents += [{"id": f"Q0RES{n:09d}", "number": 5000 + n, "title": f"old {n}", "service": ADS_SERVICE,
                   "status": "resolved", "urgency": "low", "created_at": _iso(T0 - timedelta(days=1, minutes=n)),
                   "resolved_at": _iso(T0 - timedelta(hours=20))} for n in range(10)]
    story = T0 - timedelta(days=7)
    at = lambda minutes: _iso(story + timedelta(minutes=minutes))
    return {
        "tokens": {USER_TOKEN: {"kind": "user", "user": SAM}, ACCOUNT_TOKEN: {"kind": "account"}},
        "users": [{"id": SAM, "name": "Sam Okafor", "email": SAM_EMAIL},
                  {"id": LENA, "name": "Lena Fischer", "email": "lena.fischer@ads-demo.example.com"},
                  {"id": RAVI, "name": "Ravi Patel", "email": "ravi.patel@ads-demo.example.com"}],
        "teams": [{"id": "PTEAM01", "name": "Ads Platform"}],
        "escalation_policies": [{"id": "PEPADS1", "name": "Ads Platform - Default", "teams": ["PTEAM01"]},
                                {"id": "PEPPAY1", "name": "Payments - Default"}],
        "services": [{"id": ADS_SERVICE, "name": ADS_NAME, "escalation_policy": "PEPADS1", "teams": ["PTEAM01"]},
                     {"id": CANARY_SERVICE, "name": f"{ADS_NAME}-canary", "escalation_policy": "PEPADS1"},
                     {"id": PAYMENTS_SERVICE, "name": "payments-api", "escalation_policy": "PEPPAY1"}],
        "oncalls": [{"escalation_policy": "PEPADS1", "user": LENA, "level": 2},
                    {"escalation_policy": "PEPADS1", "user": SAM, "level": 1},
                    # Sam is also on call through a second schedule: listed once.
                    {"escalation_policy": "PEPADS1", "user": SAM, "level": 1},
                    {"escalation_policy": "PEPPAY1", "user": RAVI, "level": 1}],
        "incidents": incidents,
        "log_entries": {
            OPEN_INCIDENT: [
                {"type": "trigger", "at": _iso(newest), "agent": f"service:{ADS_SERVICE}",
                 "channel": {"type": "api", "summary": "worker-container OOMKilled", "details": {"exit_code": 137}}},
                {"type": "notify", "at": _iso(newest + timedelta(seconds=5)), "agent": f"service:{ADS_SERVICE}",
                 "user": SAM, "channel": {"type": "auto", "notification": {
                     "type": "sms_notification", "address": "+15550100", "status": "success"}}},
            ],
            STORY_INCIDENT: [
                {"type": "trigger", "at": at(0), "agent": f"service:{ADS_SERVICE}",
                 "channel": {"type": "api", "summary": "worker-container OOMKilled"}},
                {"type": "assign", "at": at(0), "agent": f"service:{ADS_SERVICE}", "assignees": [SAM]},
                {"type": "notify", "at": at(1), "agent": f"service:{ADS_SERVICE}", "user": SAM,
                 "channel": {"type": "auto", "notification": {"type": "push_notification", "status": "success"}}},
                {"type": "escalate", "at": at(30), "agent": f"service:{ADS_SERVICE}", "assignees": [LENA],
                 "channel": {"type": "timeout"}},
                {"type": "acknowledge", "at": at(32), "agent": f"user:{LENA}", "channel": {"type": "website"}},
                {"type": "annotate", "at": at(35), "agent": f"user:{LENA}",
                 "channel": {"type": "note", "summary": "rolled back to r41"}},
                {"type": "snooze", "at": at(36), "agent": f"user:{LENA}", "channel": {"type": "website", "duration": 1800}},
                {"type": "resolve", "at": at(60), "agent": f"user:{LENA}", "channel": {"type": "website"}},
            ],
        },
        "alerts": {OPEN_INCIDENT: [{"id": "PALERT1", "at": _iso(newest), "summary": "worker-container OOMKilled",
                                    "severity": "critical", "details": {"exit_code": 137, "pod": "worker-7d9f"}}]},
        "notes": {STORY_INCIDENT: [{"id": "PNOTE01", "user": LENA, "content": "rolled back to r41", "at": at(35)}]},
        "change_events": {OPEN_INCIDENT: [
            {"id": "PCHG001", "summary": "deploy worker r42", "at": _iso(newest - timedelta(minutes=20)),
             "source": "ci.ads-demo", "service": ADS_SERVICE, "reason": "related_service",
             "links": ["https://ci.example.com/builds/42"]},
            {"id": "PCHG002", "summary": "raise worker buffer size", "at": _iso(newest - timedelta(minutes=40)),
             "source": "config", "service": ADS_SERVICE, "reason": "intelligent"},
        ]},
        "change_events_forbidden": [NO_CHANGES_INCIDENT],
    }


@dataclass(frozen=True)
class PagerDutyStack:
    """The running fake and the Prism proxy in front of it."""

    url: str
    """Prism's base URL: what the client under test talks to."""
    fake_url: str
    """The fake's own base URL, for ``/__control`` and ``/__requests`` (never through Prism)."""
    prism_log: Path
    """Prism's output."""
    errata: tuple[str, ...]
    """Fixes applied to the official spec before Prism loaded it."""

    def control(self, **command: Any) -> None:
        """Send a ``/__control`` command to the fake (reset, fail, malformed)."""
        httpx.post(f"{self.fake_url}/__control", json=command, timeout=10).raise_for_status()

    def requests(self, method: str | None = None, path: str | None = None) -> list[dict[str, Any]]:
        """What the fake received (after Prism), oldest first, optionally filtered."""
        rows = httpx.get(f"{self.fake_url}/__requests", timeout=10).json()["requests"]
        return [r for r in rows if (method is None or r["method"] == method) and (path is None or r["path"] == path)]


@pytest.fixture(scope="session")
def pagerduty_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PagerDutyStack]:
    """The PagerDuty fake behind Prism for the whole session; skipped when the spec is absent."""
    try:
        source = spec_path(PAGERDUTY_SPEC)
    except PrismUnavailable as error:
        pytest.skip(str(error))
    work = tmp_path_factory.mktemp("pagerduty-live")
    # The patched copy lives in pytest's temp dir, never in the repository.
    spec, errata = patched_spec(source, work / "pagerduty-openapiv3.patched.json", PAGERDUTY_ERRATA)
    with fake_behind_prism(FAKE_SCRIPT, build_pagerduty_seed(), spec, work) as (url, fake_url):
        yield PagerDutyStack(url=url, fake_url=fake_url, prism_log=work / "prism.log", errata=tuple(errata))


@pytest.fixture
def pagerduty(pagerduty_stack: PagerDutyStack) -> PagerDutyStack:
    """The stack, with the fake back at its seed and its request log empty."""
    pagerduty_stack.control(reset=True)
    return pagerduty_stack
