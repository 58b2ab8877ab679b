"""The demo's SQLite incident store behaves like a small PagerDuty and a PR registry."""

from __future__ import annotations

import re
import threading
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from analysis.model import IncidentStatus, PullRequest, TimelineKind
from tui.sources.base import NotFoundError
from tui.sources.demo.store import IncidentStore


@pytest.fixture
def store(tmp_path: Path):
    store = IncidentStore(tmp_path)
    try:
        yield store
    finally:
        store.close()


def draft_pr(branch: str) -> PullRequest:
    """A PR as the code source hands it to the registry (number not yet assigned)."""
    return PullRequest(number=0, title="Free buffer in controller loop", body="Fixes the leak",
                       branch=branch, base="main", head_sha="f" * 40)


def test_trigger_creates_a_pagerduty_shaped_incident_and_notifies_the_primary(store: IncidentStore) -> None:
    # GIVEN an empty store
    # WHEN an incident is triggered
    incident = store.trigger("OOMKilled: worker-container in pod-x restarted 1 time")

    # THEN it has a PagerDuty-style id, the first number, and is assigned to the primary on call
    assert re.fullmatch(r"[A-Z0-9]{14}", incident.id)
    assert incident.number == 1001
    assert incident.status is IncidentStatus.TRIGGERED
    assert (incident.urgency, incident.severity, incident.service) == ("high", "SEV-2", "ads-demo-service")
    primary = store.on_call(incident.id).responders[0]
    assert incident.assignee == primary.name
    # AND the log says it was triggered and who was notified through which channel
    entries = store.log_entries(incident.id)
    assert [e.kind for e in entries] == [TimelineKind.INCIDENT, TimelineKind.INCIDENT]
    assert entries[0].summary.startswith("Triggered")
    assert primary.name in entries[1].summary and "SMS" in entries[1].summary
    assert store.open_incidents() == [incident]


def test_incident_numbers_and_ids_are_unique_under_concurrent_triggers(store: IncidentStore) -> None:
    # GIVEN eight threads triggering at once
    results = []
    lock = threading.Lock()

    def trigger(i: int) -> None:
        incident = store.trigger(f"incident {i}")
        with lock:
            results.append(incident)

    threads = [threading.Thread(target=trigger, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    # THEN every incident got its own number (1001..1008) and id
    assert sorted(i.number for i in results) == list(range(1001, 1009))
    assert len({i.id for i in results}) == 8
    # AND open incidents come newest first
    assert [i.number for i in store.open_incidents()] == list(range(1008, 1000, -1))


def test_acknowledge_is_idempotent(store: IncidentStore) -> None:
    # GIVEN a triggered incident
    incident = store.trigger("OOMKilled")

    # WHEN it is acknowledged twice
    first = store.acknowledge(incident.id, by="Lena Fischer")
    second = store.acknowledge(incident.id, by="Sam Okafor")

    # THEN the first call acknowledged it and the second changed nothing
    assert first.status is IncidentStatus.ACKNOWLEDGED
    assert first.acknowledged_at is not None and first.assignee == "Lena Fischer"
    assert second == first
    acks = [e for e in store.log_entries(incident.id) if e.summary.startswith("Acknowledged")]
    assert [e.summary for e in acks] == ["Acknowledged by Lena Fischer"]


def test_notes_are_listed_and_logged(store: IncidentStore) -> None:
    # GIVEN an incident
    incident = store.trigger("OOMKilled")

    # WHEN two notes are added
    store.add_note(incident.id, "Suspect 1a2b3c4: removes free(buffer)\nmore detail")
    store.add_note(incident.id, "Fix PR opened", author="Lena Fischer")

    # THEN both are listed oldest first with their authors, and each left an annotate log entry
    notes = store.notes(incident.id)
    assert [(n.author, n.content.splitlines()[0]) for n in notes] == [
        ("Sam Okafor", "Suspect 1a2b3c4: removes free(buffer)"), ("Lena Fischer", "Fix PR opened")]
    summaries = [e.summary for e in store.log_entries(incident.id)]
    assert "Note added by Sam Okafor: Suspect 1a2b3c4: removes free(buffer)" in summaries


def test_unknown_incident_raises_not_found(store: IncidentStore) -> None:
    # GIVEN an empty store / WHEN an unknown id is used / THEN NotFoundError
    with pytest.raises(NotFoundError):
        store.incident("QNOTAREALID000")
    with pytest.raises(NotFoundError):
        store.acknowledge("QNOTAREALID000")


def test_pr_registry_numbers_reuses_and_persists_across_reopen(tmp_path: Path) -> None:
    # GIVEN a store with two incidents
    store = IncidentStore(tmp_path)
    a, b = store.trigger("first"), store.trigger("second")

    # WHEN fix PRs are recorded for both, the first twice, and the first is merged
    pr_a = store.record_pr(a.id, draft_pr("incident/a-fix"))
    pr_b = store.record_pr(b.id, draft_pr("incident/b-fix"))
    again = store.record_pr(a.id, draft_pr("incident/a-fix-2"))
    merged_at = datetime.now(timezone.utc) - timedelta(minutes=1)
    store.mark_pr_merged(pr_a.number, merged_at)
    store.acknowledge(a.id)
    store.close()

    # THEN numbers start at 42 and go up, the second record reuses the first PR
    assert (pr_a.number, pr_b.number) == (42, 43)
    assert again.reused and again.number == 42 and again.branch == "incident/a-fix"
    assert pr_a.created_at is not None

    # AND after reopening, the registry and the incidents are as they were left
    reopened = IncidentStore(tmp_path)
    try:
        found = reopened.find_pr(a.id)
        assert found is not None
        assert (found.number, found.branch, found.head_sha) == (42, "incident/a-fix", "f" * 40)
        assert found.merged_at == merged_at
        assert reopened.find_pr(b.id).merged_at is None
        assert reopened.find_pr("QNOPR000000000") is None
        assert reopened.incident(a.id).status is IncidentStatus.ACKNOWLEDGED
        with pytest.raises(NotFoundError):
            reopened.mark_pr_merged(99, merged_at)
    finally:
        reopened.close()
