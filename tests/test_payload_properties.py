"""Property tests: spec-valid but unusual upstream payloads, parsed and rendered.

Hypothesis builds PagerDuty objects (incidents, log entries of every type, change events, notes,
alerts, on-call rows) with optional fields left out, odd offsets (+05:45, -09:30, Z, fractional
seconds), unicode titles (RTL, emoji, combining marks, control characters, markup look-alikes,
very long) and huge timelines; Kubernetes objects as the official client's own models (so
pydantic checks they are schema-valid) with missing status, container statuses, last states and
resources, odd quantity strings and missing event fields; GitHub commit details.

The properties: a parser returns domain objects or raises the sources' ``SourceError`` with a
message that says what was wrong; the presentational widgets turn any such object into text
without raising, and no control character reaches the terminal raw.
"""

from __future__ import annotations

import io
import json
import os
import unicodedata
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from kubernetes import client as k8s
from rich.console import Console
from rich.text import Text
from textual_plotext import Plot

from analysis.annotate import annotate_change
from analysis.model import (
    Incident,
    MemorySample,
    Reason,
    Suspect,
    TimelineEntry,
    TimelineKind,
)
from tui.sources import github_parse, kubernetes_parse
from tui.sources import pagerduty_parse as pd
from tui.sources.base import SourceError
from tui.sources.kubernetes_objects import KubeObject, read_object
from widgets.diff_view import render_diff
from widgets.incident_header import HeaderView, header_text
from widgets.memory_graph import MemoryView, draw_memory_plot, summary_content
from widgets.suspects import note_text, reasons_text, suspect_row
from widgets.timeline import timeline_row

NOW = datetime(2026, 12, 1, 12, 0, 0, tzinfo=UTC)
PROPS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.large_base_example])
BIG = settings(max_examples=10, deadline=None, suppress_health_check=list(HealthCheck))
SPECS = Path(os.environ.get("INCIDENT_TUI_SPECS", Path(__file__).resolve().parents[2] / "shared" / "specs"))
BIDI = set("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u2028\u2029")


def assert_terminal_safe(text: str, *, multiline: bool = False) -> None:
    """No control character (tab and newline aside in blocks) and no bidi control in ``text``."""
    allowed = "\n\t" if multiline else ""
    bad = {c for c in text if (unicodedata.category(c) == "Cc" and c not in allowed) or c in BIDI}
    assert not bad, f"raw controls {sorted(map(hex, map(ord, bad)))} in {text[:80]!r}"


def render_cell(cell: object) -> str:
    """A table cell through Rich as a terminal would get it (no colour), checked to be plain text."""
    assert isinstance(cell, (str, Text))
    if isinstance(cell, str):
        Text.from_markup(cell)  # str cells are markup: the widget only passes ones it made itself
    console = Console(file=io.StringIO(), width=100, color_system=None, legacy_windows=False)
    console.print(cell)
    output = console.file.getvalue()  # type: ignore[attr-defined]
    assert_terminal_safe(output, multiline=True)
    return output


# --- text, times and references ------------------------------------------------------------------

WEIRD = st.sampled_from([
    "[/]", "[bold]", "[/bold]", "[link=https://evil.example]click", "[b]unclosed", "[@click=quit]x",
    "\x1b]2;PWNED\x07", "\x1b[31mred", "\x9b2J", "\u202eevil", "\u2066iso\u2069", "שלום עולם", "مرحبا",
    "e\u0301\u0301\u0301", "👩‍👩‍👧", "🔥", "\u200b", "\ufeff", "\\", "%s {0}", "\r\n", "\t", "\x00", "\x7f",
    "OOMKilled: worker", "ads-demo-service",
])
CONTROL = st.characters(codec="utf-8", categories=["Cc"])
TEXT = st.one_of(
    st.text(max_size=30),
    st.lists(st.one_of(WEIRD, CONTROL, st.text(max_size=4)), max_size=8).map("".join),
    st.tuples(st.one_of(WEIRD, st.text(min_size=1, max_size=3)), st.integers(100, 2000)).map(lambda t: t[0] * t[1]),
)
"""Titles and messages: plain, unicode-mixed with controls and markup look-alikes, or very long."""

OFFSETS = ["Z", "+00:00", "-00:00", "+05:45", "-09:30", "+14:00", "-12:00", "+05:30", "+0545", ""]
FRACTIONS = ["", ".5", ".123", ".123456", ".123456789"]
DATETIMES = st.one_of(
    st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1)),
    st.datetimes(),  # years 1 to 9999: the edges overflow once moved to UTC
)


def _offset(text: str) -> timedelta:
    if text in ("", "Z", "+00:00", "-00:00"):
        return timedelta(0)
    digits = text[1:].replace(":", "")
    delta = timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
    return delta if text[0] == "+" else -delta


@st.composite
def timestamps(draw: st.DrawFn) -> str:
    """An ISO 8601 / RFC 3339 timestamp with an odd offset or fraction."""
    moment = draw(DATETIMES).replace(microsecond=0)
    return moment.isoformat(timespec="seconds") + draw(st.sampled_from(FRACTIONS)) + draw(st.sampled_from(OFFSETS))


def expected_instant(text: str) -> datetime | None:
    """What a timestamp means in UTC, computed independently; ``None`` when outside years 1-9999."""
    naive, rest = datetime.fromisoformat(text[:19]), text[19:]
    digits = ""
    if rest.startswith("."):
        body = rest[1:]
        digits = body[:len(body) - len(body.lstrip("0123456789"))]
        rest = body[len(digits):]
    micro = int((digits + "000000")[:6]) if digits else 0  # Python keeps microseconds, truncating
    try:
        return (naive.replace(microsecond=micro) - _offset(rest)).replace(tzinfo=UTC)
    except OverflowError:
        return None


IDS = st.from_regex(r"\AP[A-Z0-9]{6}\Z")
URLS = st.sampled_from(["https://acme.pagerduty.com/incidents/PT4KHLK", "https://api.pagerduty.com/x"])


def reference(kind: str) -> st.SearchStrategy[dict]:
    """A PagerDuty ``*_reference``: ``id`` and ``type``, the rest optional (``summary`` nullable)."""
    return st.fixed_dictionaries(
        {"id": IDS, "type": st.just(f"{kind}_reference")},
        optional={"summary": st.none() | TEXT, "self": URLS, "html_url": URLS},
    )


# --- PagerDuty ------------------------------------------------------------------------------------

INCIDENT_REQUIRED = {  # what parse_incident needs; every field is optional in the spec
    "id": IDS, "type": st.just("incident"), "incident_number": st.integers(0, 2**53),
    "title": TEXT, "status": st.sampled_from(["triggered", "acknowledged", "resolved"]),
    "service": reference("service"), "created_at": timestamps(),
}
INCIDENT_OPTIONAL = {
    "summary": TEXT, "self": URLS, "html_url": URLS, "updated_at": timestamps(), "incident_key": TEXT,
    "assignments": st.lists(st.fixed_dictionaries({"at": timestamps(), "assignee": reference("user")}), max_size=3),
    "acknowledgements": st.lists(st.fixed_dictionaries({"at": timestamps(), "acknowledger": reference("user")}),
                                 max_size=3),
    "last_status_change_at": timestamps(), "resolved_at": st.none() | timestamps(),
    "urgency": st.sampled_from(["high", "low"]), "priority": st.none() | reference("priority"),
    "escalation_policy": reference("escalation_policy"), "teams": st.lists(reference("team"), max_size=2),
    "alert_counts": st.fixed_dictionaries({"all": st.integers(0), "triggered": st.integers(0)}),
    "body": st.fixed_dictionaries({"type": st.just("incident_body")}, optional={"details": TEXT}),
}
INCIDENTS = st.fixed_dictionaries(INCIDENT_REQUIRED, optional=INCIDENT_OPTIONAL)


def _log_entry_types() -> list[str]:
    """Every log entry type the spec lists (a fallback list when the specs are absent)."""
    path = SPECS / "pagerduty-rest-openapiv3.json"
    if path.exists():
        schema = json.loads(path.read_text())["components"]["schemas"]["LogEntry"]
        return list(schema["allOf"][1]["properties"]["type"]["enum"])
    return ["acknowledge_log_entry", "annotate_log_entry", "assign_log_entry", "delegate_log_entry",
            "escalate_log_entry", "notify_log_entry", "resolve_log_entry", "snooze_log_entry",
            "trigger_log_entry", "unacknowledge_log_entry", "urgency_change_log_entry"]


LOG_TYPES = _log_entry_types()
CHANNELS = st.fixed_dictionaries(
    {"type": st.sampled_from([*pd._CHANNELS, "custom_channel", "timeout"])},
    optional={
        "summary": TEXT, "subject": TEXT, "description": TEXT, "details": TEXT,
        "notification": st.fixed_dictionaries({"type": st.sampled_from([*pd._NOTIFICATIONS, "other"])},
                                              optional={"address": TEXT, "status": TEXT}),
        "duration": st.one_of(st.integers(-10**15, 10**15), st.floats()),
    },
)
LOG_ENTRIES = st.fixed_dictionaries(
    {"type": st.sampled_from([*LOG_TYPES, *(t.replace("_log_entry", "_log_entry_reference") for t in LOG_TYPES)]),
     "created_at": timestamps()},
    optional={
        "id": IDS, "summary": st.none() | TEXT, "self": URLS, "html_url": URLS, "channel": CHANNELS,
        "agent": st.one_of(reference("user"), reference("service")), "note": TEXT,
        "assignees": st.lists(reference("user"), max_size=3), "user": reference("user"),
        "incident": reference("incident"), "service": reference("service"),
        "teams": st.lists(reference("team"), max_size=2), "acknowledgement_timeout": st.integers(0),
        "event_details": st.fixed_dictionaries({}, optional={"description": TEXT}),
        "contexts": st.lists(st.fixed_dictionaries({"type": st.just("link")}, optional={"href": URLS, "text": TEXT})),
    },
)
CHANGE_EVENTS = st.fixed_dictionaries(
    {"id": IDS, "timestamp": timestamps()},
    optional={
        "type": st.just("change_event"), "summary": TEXT, "source": st.none() | TEXT,
        "services": st.lists(reference("service"), max_size=3),
        "links": st.lists(st.fixed_dictionaries({"href": URLS}, optional={"text": TEXT}), max_size=2),
        "correlation_reason": st.fixed_dictionaries(
            {}, optional={"reason": st.sampled_from(["most_recent", "related_service", "intelligent"])}),
        "custom_details": st.dictionaries(st.text(max_size=5), TEXT, max_size=2),
    },
)
NOTES = st.fixed_dictionaries(
    {"content": TEXT},
    optional={"id": IDS, "user": reference("user"), "channel": st.fixed_dictionaries({"summary": TEXT}),
              "created_at": timestamps(), "updated_at": timestamps()},
)
ALERTS = st.fixed_dictionaries(
    {"id": IDS, "type": st.just("alert"), "created_at": timestamps()},
    optional={"summary": TEXT, "status": st.sampled_from(["triggered", "resolved"]),
              "severity": st.sampled_from(["critical", "error", "warning", "info"]),
              "body": st.fixed_dictionaries({}, optional={"details": st.one_of(TEXT, st.dictionaries(TEXT, TEXT, max_size=3))})},
)
ONCALLS = st.lists(st.fixed_dictionaries(
    {"escalation_policy": reference("escalation_policy"), "escalation_level": st.integers(1, 10)},
    optional={"user": reference("user"), "schedule": st.none() | reference("schedule"),
              "start": st.none() | timestamps(), "end": st.none() | timestamps()},
), max_size=20)


def parsed_or_clear_error(parse, payload):  # type: ignore[no-untyped-def]
    """``parse(payload)``, or ``None`` after checking the SourceError says what was wrong."""
    try:
        return parse(payload)
    except SourceError as error:
        message = str(error)
        assert message.startswith("PagerDuty returned ") and ("timestamp" in message or "'" in message), message
        return None


def assert_timeline_renders(entries: list[TimelineEntry]) -> None:
    """Every row of the timeline renders in UTC and local time, controls escaped."""
    for entry in entries:
        for local in (False, True):
            cells = timeline_row(entry, local=local, now=NOW)
            for cell in cells:
                render_cell(cell)


def assert_header_text_builds(incident: Incident) -> None:
    """The header's text builds; what the widget shows is checked in the Pilot test below."""
    text = header_text(HeaderView(incident, incident.service, "live"), now=NOW)
    assert incident.title in text


@PROPS
@given(timestamps())
def test_pagerduty_timestamps_mean_the_same_instant_in_utc(text: str) -> None:
    # GIVEN an RFC 3339 timestamp with an odd offset or fraction WHEN parsed
    expected = expected_instant(text)
    if expected is None:
        # THEN one outside years 1-9999 in UTC is a SourceError naming it
        with pytest.raises(SourceError, match="malformed timestamp"):
            pd.parse_time(text, "an incident")
        return
    # THEN otherwise it is the same instant, in UTC
    parsed = pd.parse_time(text, "an incident")
    assert parsed == expected and parsed.utcoffset() == timedelta(0)


@PROPS
@given(INCIDENTS)
def test_complete_incidents_parse_faithfully_and_render(payload: dict) -> None:
    # GIVEN an incident with every field the dashboard needs, the rest optional and unusual
    incident = parsed_or_clear_error(pd.parse_incident, payload)
    if incident is None:
        return  # only a timestamp outside the representable range gets here (asserted inside)
    # THEN it keeps the title and number as sent, with UTC times
    assert (incident.title, incident.number, incident.status.value) == (
        payload["title"], payload["incident_number"], payload["status"])
    assert incident.created_at.utcoffset() == timedelta(0)
    # AND the header text builds with it
    assert_header_text_builds(incident)


@PROPS
@given(INCIDENTS, st.sets(st.sampled_from(sorted(INCIDENT_REQUIRED))))
def test_spec_minimal_incidents_parse_or_name_the_missing_field(payload: dict, dropped: set[str]) -> None:
    # GIVEN a spec-valid incident without some fields the spec marks optional
    for key in dropped:
        payload.pop(key)
    # WHEN parsed THEN an Incident, or a SourceError naming what is missing
    try:
        pd.parse_incident(payload)
    except SourceError as error:
        assert any(repr(key) in str(error) for key in dropped) or "timestamp" in str(error), str(error)
    else:
        assert not dropped - {"type"}


@PROPS
@given(LOG_ENTRIES)
def test_log_entries_of_every_type_parse_and_render(payload: dict) -> None:
    # GIVEN a log entry of any type, optional fields in or out, unusual texts
    entry = parsed_or_clear_error(pd.parse_log_entry, payload)
    if entry is None:
        return
    # THEN it is an incident entry with a readable summary, and its row renders
    assert entry.kind is TimelineKind.INCIDENT and isinstance(entry.summary, str) and entry.summary
    assert_timeline_renders([entry])


@BIG
@given(LOG_ENTRIES, st.integers(1000, 5000), st.sampled_from(OFFSETS))
def test_a_huge_timeline_parses_sorted_and_renders(template: dict, count: int, offset: str) -> None:
    # GIVEN thousands of log entries a second apart, in a zone with an odd offset
    start = datetime(2026, 11, 30, 23, 0, 0)
    rows = [{**template, "created_at": (start + timedelta(seconds=i)).isoformat() + offset} for i in range(count)]
    # WHEN parsed THEN every entry comes back, in order
    entries = [pd.parse_log_entry(row) for row in rows]
    assert len(entries) == count and entries == sorted(entries, key=lambda e: e.at)
    # AND every row builds (first and last rendered fully)
    rows_built = [timeline_row(entry, local=False, now=NOW) for entry in entries]
    assert len(rows_built) == count
    assert_timeline_renders([entries[0], entries[-1]])


@PROPS
@given(st.lists(CHANGE_EVENTS, max_size=5))
def test_change_events_parse_and_render(payloads: list[dict]) -> None:
    # GIVEN related change events with optional fields missing
    events = [e for p in payloads if (e := parsed_or_clear_error(pd.parse_change_event, p)) is not None]
    # WHEN turned into timeline entries THEN they are sorted and render
    entries = pd.change_event_entries(events)
    assert [e.at for e in entries] == sorted(e.at for e in entries)
    assert_timeline_renders(entries)


@PROPS
@given(NOTES, ALERTS)
def test_notes_and_alerts_parse_or_say_why(note: dict, alert: dict) -> None:
    # GIVEN a note (only content is required) and an alert
    parsed_note = parsed_or_clear_error(pd.parse_note, note)
    parsed_alert = parsed_or_clear_error(pd.parse_alert, alert)
    # THEN they keep what was sent
    if parsed_note is not None:
        assert parsed_note.content == note["content"]
    if parsed_alert is not None:
        assert parsed_alert.id == alert["id"] and all(isinstance(v, str) for _, v in parsed_alert.details)


@PROPS
@given(ONCALLS)
def test_on_call_rows_become_a_team(rows: list[dict]) -> None:
    # GIVEN on-call rows, some without a user
    team = pd.parse_on_call("policy", "team", rows)
    # THEN each named user is listed once per level, ordered by level
    assert [r.level for r in team.responders] == sorted(r.level for r in team.responders)
    assert all(r.handle for r in team.responders)


# --- Kubernetes -----------------------------------------------------------------------------------

CONTAINER, POD = "worker-container", "worker-app-7d4b9"
ZONES = st.sampled_from([UTC, timezone(timedelta(hours=5, minutes=45)), timezone(timedelta(hours=-9, minutes=-30))])
TIMES = st.none() | st.datetimes(timezones=st.none() | ZONES)
QUANTITIES = st.one_of(
    st.sampled_from(["64Mi", "0.5Gi", "1e9", "128974848", "12k", "1E", "100m", "0", "1.5Gi", "7Ei", "8Ei",
                     "64MiB", "", " 64Mi ", "-1Gi", "1e999999999", "0x10", "Mi", "1e-999999999", "+.5e3"]),
    st.integers(0, 2**62).map(str),
    st.text(max_size=6),
)
RESOURCES = st.none() | st.builds(k8s.V1ResourceRequirements, limits=st.none() | st.dictionaries(
    st.sampled_from(["memory", "cpu"]), QUANTITIES, max_size=2))
TERMINATED = st.builds(
    k8s.V1ContainerStateTerminated, exit_code=st.integers(-2**31, 2**31 - 1),
    reason=st.none() | st.sampled_from(["OOMKilled", "Error", "Completed"]) | TEXT,
    started_at=TIMES, finished_at=TIMES, message=st.none() | TEXT)
STATES = st.none() | st.builds(
    k8s.V1ContainerState,
    running=st.none() | st.builds(k8s.V1ContainerStateRunning, started_at=TIMES),
    terminated=st.none() | TERMINATED,
    waiting=st.none() | st.builds(k8s.V1ContainerStateWaiting, reason=st.none() | st.just("CrashLoopBackOff") | TEXT,
                                  message=st.none() | TEXT))
STATUSES = st.builds(k8s.V1ContainerStatus, name=st.sampled_from([CONTAINER, "sidecar"]), image=st.just("img"),
                     image_id=st.just(""), ready=st.booleans(), restart_count=st.integers(0, 2**31 - 1),
                     state=STATES, last_state=STATES)
PODS = st.builds(
    k8s.V1Pod,
    metadata=st.builds(k8s.V1ObjectMeta, name=st.just(POD)),
    spec=st.none() | st.builds(k8s.V1PodSpec, containers=st.lists(st.builds(
        k8s.V1Container, name=st.sampled_from([CONTAINER, "sidecar"]), image=st.just("img"), resources=RESOURCES),
        min_size=1, max_size=2)),
    status=st.none() | st.builds(k8s.V1PodStatus, reason=st.none() | TEXT,
                                 container_statuses=st.none() | st.lists(STATUSES, max_size=2)),
)
EVENTS = st.builds(
    k8s.CoreV1Event,
    involved_object=st.builds(k8s.V1ObjectReference, name=st.sampled_from([POD, "other"]),
                              kind=st.none() | st.sampled_from(["Pod", "Node"]),
                              field_path=st.none() | st.just("spec.containers{worker-container}") | TEXT),
    metadata=st.builds(k8s.V1ObjectMeta, uid=st.none() | st.uuids().map(str), name=st.none() | st.just("ev"),
                       creation_timestamp=TIMES),
    last_timestamp=TIMES, first_timestamp=TIMES, event_time=TIMES,
    reason=st.none() | st.sampled_from(["BackOff", "Killing", "OOMKilling"]) | TEXT,
    message=st.none() | TEXT, count=st.none() | st.integers(0, 2**31 - 1),
    type=st.none() | st.sampled_from(["Normal", "Warning"]),
)
METRICS = st.fixed_dictionaries(
    {"containers": st.lists(st.fixed_dictionaries(
        {"name": st.sampled_from([CONTAINER, "sidecar"]), "usage": st.fixed_dictionaries({}, optional={
            "memory": QUANTITIES, "cpu": st.just("5m")})}), max_size=2)},
    optional={"timestamp": st.none() | timestamps(), "window": st.just("30s")},
)


def or_payload_error(read, *args, **kwargs):  # type: ignore[no-untyped-def]
    """``read(*args, **kwargs)``, or ``None`` after checking the error is a worded SourceError."""
    try:
        return read(*args, **kwargs)
    except SourceError as error:
        assert "quantity" in str(error) or "timestamp" in str(error), str(error)
        return None


@PROPS
@given(QUANTITIES)
def test_quantities_are_bytes_or_a_source_error(text: str) -> None:
    # GIVEN any quantity string WHEN read THEN an int within int64, or a SourceError (a ValueError too)
    value = or_payload_error(kubernetes_parse.parse_quantity, text)
    assert value is None or abs(value) <= 2**63


@PROPS
@given(PODS, st.lists(METRICS, max_size=3), st.integers(0, 2**64 - 1))
def test_pods_with_missing_parts_parse_and_render_in_the_memory_pane(pod: k8s.V1Pod, metrics: list[dict],
                                                                     working_set: int) -> None:
    # GIVEN a pod with status, container statuses, last state or resources missing, metrics-server
    # samples with odd quantities and a kubelet summary with any uint64 working set
    state = or_payload_error(kubernetes_parse.container_state, pod, CONTAINER)
    kills = or_payload_error(kubernetes_parse.oom_terminations, pod, CONTAINER) or []
    reason, message = kubernetes_parse.waiting_message(pod, CONTAINER)
    samples = [s for m in metrics if (s := or_payload_error(kubernetes_parse.metrics_sample, m, CONTAINER))]
    summary = {"pods": [{"podRef": {"name": POD, "namespace": "default"}, "containers": [
        {"name": CONTAINER, "memory": {"time": "2026-12-01T11:59:00-09:30", "workingSetBytes": working_set}}]}]}
    samples.append(kubernetes_parse.summary_sample(summary, "default", POD, CONTAINER))  # type: ignore[arg-type]
    # THEN the memory pane's text and plot build, controls escaped
    view = MemoryView(samples=tuple(samples), limit_bytes=state.limit_bytes if state else None, now=NOW,
                      oom_kills=tuple(k.finished_at for k in kills), container=state,
                      stale_note=message, notes=tuple(filter(None, [reason])))
    assert_terminal_safe(summary_content(view).plain, multiline=True)
    plot = Plot()
    draw_memory_plot(plot, view, 80, 16)
    assert "MiB" in Plot.uncolorize(plot.build())
    entries = [kubernetes_parse.oom_entry(state, kill) for kill in kills] if state else []
    if state is not None and message:
        entries.append(kubernetes_parse.backoff_entry(state, message))
    assert_timeline_renders(entries)


@PROPS
@given(st.lists(EVENTS, max_size=10))
def test_events_with_missing_fields_become_records_or_are_skipped(events: list[k8s.CoreV1Event]) -> None:
    # GIVEN events with missing times, reasons, counts, uids
    records = [r for e in events if (r := or_payload_error(kubernetes_parse.event_record, e, pod=POD))]
    # THEN the ones about the pod with a time become entries that render
    assert all(r.involved.startswith("Pod/") and r.uid for r in records)
    assert_timeline_renders([r.entry() for r in records])
    assert all(isinstance(r.as_dict()["count"], int) for r in records)


def as_api_json(model: object) -> KubeObject:
    """The model as the API server would send it, read the way the app reads answers."""
    return read_object(json.dumps(k8s.ApiClient().sanitize_for_serialization(model)))


def outcome(read, *args, **kwargs):  # type: ignore[no-untyped-def]
    """``("value", result)``, or ``("error", type)`` for a SourceError (messages quote the raw value)."""
    try:
        return "value", read(*args, **kwargs)
    except SourceError as error:
        return "error", type(error)


@PROPS
@given(PODS)
def test_a_pod_read_from_its_json_says_what_the_official_model_says(pod: k8s.V1Pod) -> None:
    # GIVEN a pod as the official client's model and as the JSON the API server sends for it
    view = as_api_json(pod)
    # WHEN both are read THEN state, OOM terminations, waiting message and limits are the same
    for read in (kubernetes_parse.container_state, kubernetes_parse.oom_terminations,
                 kubernetes_parse.waiting_message, kubernetes_parse.container_limits):
        assert outcome(read, view, CONTAINER) == outcome(read, pod, CONTAINER), read.__name__


@PROPS
@given(st.lists(EVENTS, max_size=5))
def test_events_read_from_their_json_say_what_the_official_models_say(events: list[k8s.CoreV1Event]) -> None:
    # GIVEN events as models and as JSON WHEN read THEN the same records (or the same refusal)
    for event in events:
        assert outcome(kubernetes_parse.event_record, as_api_json(event), pod=POD) == \
            outcome(kubernetes_parse.event_record, event, pod=POD)


@BIG
@given(EVENTS, st.integers(1000, 4000))
def test_a_huge_event_list_is_read(template: k8s.CoreV1Event, count: int) -> None:
    # GIVEN thousands of copies of an event WHEN read THEN each gives the same answer, quickly
    first = or_payload_error(kubernetes_parse.event_record, template, pod=POD)
    records = [or_payload_error(kubernetes_parse.event_record, template, pod=POD) for _ in range(count)]
    assert records == [first] * count


def test_regression_event_without_metadata_is_still_a_record() -> None:
    # GIVEN an event a fake built without metadata (the client's models require it, fakes do not)
    event = k8s.CoreV1Event.model_construct(
        involved_object=k8s.V1ObjectReference(name=POD, kind="Pod"), metadata=None, last_timestamp=NOW,
        first_timestamp=None, event_time=None, reason="BackOff", message="Back-off", count=2, type="Warning")
    # WHEN read THEN it is a record dated by its own time, with a made-up but stable uid
    record = kubernetes_parse.event_record(event, pod=POD)
    assert record is not None and record.at == NOW and record.uid.startswith(f"Pod/{POD}/BackOff/")


def test_regression_revision_with_a_non_decimal_digit_sorts_last_instead_of_crashing() -> None:
    # GIVEN a ReplicaSet whose revision annotation is "²" (str.isdigit is True, int() refuses it)
    def replica_set(revision: str) -> k8s.V1ReplicaSet:
        return k8s.V1ReplicaSet(
            metadata=k8s.V1ObjectMeta(name=f"rs-{revision}", creation_timestamp=NOW,
                                      annotations={kubernetes_parse.REVISION_ANNOTATION: revision},
                                      owner_references=[k8s.V1OwnerReference(api_version="apps/v1", kind="Deployment",
                                                                             name="worker", uid="u", controller=True)]),
            spec=k8s.V1ReplicaSetSpec(selector=k8s.V1LabelSelector()))
    # WHEN the rollouts are listed THEN the odd one sorts first (as unknown), the others by number
    found = kubernetes_parse.deployments([replica_set("2"), replica_set("²"), replica_set("1")], "worker", CONTAINER)
    assert [d.revision for d in found] == ["²", "1", "2"]


def test_regression_quantity_with_a_huge_exponent_is_an_error_not_a_hang() -> None:
    # GIVEN "1e999999999" (int() of it would build a billion-digit number) and "8Ei" (beyond int64)
    for text in ("1e999999999", "8Ei"):
        # WHEN read THEN a SourceError that callers catching ValueError also catch
        with pytest.raises(SourceError) as raised:
            kubernetes_parse.parse_quantity(text)
        assert isinstance(raised.value, ValueError) and text in str(raised.value)


def test_regression_timestamps_at_the_edge_of_the_calendar_are_source_errors() -> None:
    # GIVEN valid RFC 3339 times whose UTC instant is before year 1 or after 9999
    for text in ("0001-01-01T00:00:00+05:45", "9999-12-31T23:59:59-09:30"):
        # THEN every parser says so instead of raising OverflowError
        with pytest.raises(SourceError, match="malformed timestamp"):
            pd.parse_time(text, "an incident")
        with pytest.raises(SourceError, match="malformed timestamp"):
            kubernetes_parse.utc(text)
        with pytest.raises(SourceError, match="malformed timestamp"):
            github_parse.parse_time(text)


@pytest.mark.parametrize(("zone", "at"), [
    ("Asia/Kathmandu", datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC)),  # +05:45: past year 9999
    ("Pacific/Marquesas", datetime(1, 1, 1, 0, 0, tzinfo=UTC)),  # -09:30: before year 1
])
def test_regression_local_time_at_the_edge_of_the_calendar_falls_back_to_utc(monkeypatch, zone: str, at: datetime) -> None:
    import time

    # GIVEN a local zone in which the entry's instant has no date
    monkeypatch.setenv("TZ", zone)
    time.tzset()
    try:
        entry = TimelineEntry(at, TimelineKind.INCIDENT, "edge", "pagerduty")
        # WHEN the timeline shows local time THEN the row shows the UTC time instead of raising
        assert timeline_row(entry, local=True, now=NOW)[0] == at.strftime("%m-%d %H:%M:%S")
    finally:
        monkeypatch.delenv("TZ")
        time.tzset()


def test_regression_snooze_of_infinite_duration_is_described() -> None:
    # GIVEN a snooze log entry whose duration is Infinity or NaN (Python's json reads both)
    for duration in (float("inf"), float("nan")):
        entry = {"type": "snooze_log_entry", "created_at": "2026-12-01T10:00:00Z",
                 "agent": {"id": "PUSER01", "type": "user_reference", "summary": "Sam"},
                 "channel": {"type": "website", "duration": duration}}
        # THEN the summary leaves the minutes out instead of raising
        assert pd.parse_log_entry(entry).summary == "Snoozed by Sam"


# --- GitHub ---------------------------------------------------------------------------------------

SHAS = st.from_regex(r"\A[0-9a-f]{40}\Z")
GIT_PEOPLE = st.fixed_dictionaries({}, optional={"name": TEXT, "email": st.emails(), "date": timestamps()})
FILES = st.fixed_dictionaries(
    {"filename": TEXT.filter(bool), "status": st.sampled_from(sorted(github_parse.STATUS_MAP))},
    optional={"additions": st.integers(0, 10**6), "deletions": st.integers(0, 10**6), "patch": TEXT},
)
COMMITS = st.fixed_dictionaries(
    {"sha": SHAS, "commit": st.fixed_dictionaries({"message": TEXT}, optional={
        "author": st.none() | GIT_PEOPLE, "committer": st.none() | GIT_PEOPLE})},
    optional={"files": st.lists(FILES, max_size=3), "parents": st.lists(st.fixed_dictionaries({"sha": SHAS}), max_size=2),
              "author": st.none() | st.fixed_dictionaries({"login": TEXT})},
)


@PROPS
@given(COMMITS, TEXT, TEXT)
def test_commits_parse_and_render_as_suspects_and_diffs(payload: dict, old: str, new: str) -> None:
    # GIVEN a commit detail with unusual authors, messages, paths and times
    try:
        commit = github_parse.commit_from_detail(payload)
    except SourceError as error:
        assert "timestamp" in str(error) or "without" in str(error), str(error)
        return
    github_parse.first_parent(payload)
    # WHEN shown as a ranked suspect THEN its row and reasons render as plain text
    suspect = Suspect(commit, 42.0, (Reason(f"touches {commit.message[:20]}", 10.0),))
    for cell in suspect_row(1, suspect, NOW):
        render_cell(cell)
    assert_terminal_safe(note_text(reasons_text(suspect)).plain, multiline=True)
    # AND the diff of any two versions of one of its files renders
    path = commit.files[0].path if commit.files else "worker.c"
    rendered = render_diff(annotate_change(path, commit.sha, old, new, []))
    assert_terminal_safe(rendered.plain, multiline=True)


def test_missing_required_github_fields_are_source_errors() -> None:
    # GIVEN commit details without sha, commit or a file name, and a parent without sha
    cases = [({"commit": {}}, "'sha'"), ({"sha": "a" * 40}, "'commit'"),
             ({"sha": "a" * 40, "commit": {}, "files": [{"status": "added"}]}, "'filename'")]
    for payload, named in cases:
        # THEN each is a SourceError naming the field
        with pytest.raises(SourceError, match=named):
            github_parse.commit_from_detail(payload)
    with pytest.raises(SourceError, match="'sha'"):
        github_parse.first_parent({"parents": [{}]})


# --- on screen: the widgets mounted in an App, the compositor's output checked ------------------


def screen_text(app) -> str:  # type: ignore[no-untyped-def]
    """The text of every segment the compositor would write to the terminal."""
    strips = app.screen._compositor.render_strips()  # what the driver writes, minus the escapes Textual adds
    return "\n".join("".join(segment.text for segment in strip) for strip in strips)


def widgets_app(texts: list[str]):  # type: ignore[no-untyped-def]
    """An App holding the presentational panes, fed from payloads carrying ``texts``."""
    from textual.app import App, ComposeResult

    from widgets.diff_view import AnnotatedDiffView
    from widgets.memory_graph import MemoryGraph
    from widgets.suspects import SuspectPane
    from widgets.timeline import TimelineTable

    note, agent, message, subject, author, path = texts
    path = path[:12]  # the diff's first line names it (escapes grow it up to 6x): short keeps it on one line
    entries = [pd.parse_log_entry({"type": "annotate_log_entry", "created_at": "2026-12-01T17:30:00.5+05:45",
                                   "note": note, "agent": {"id": "PUSER01", "type": "user_reference", "summary": agent}})]
    event = k8s.CoreV1Event(involved_object=k8s.V1ObjectReference(name=POD, kind="Pod"), metadata=k8s.V1ObjectMeta(),
                            last_timestamp=NOW, reason=message[:40], message=message)
    entries.append(kubernetes_parse.event_record(event, pod=POD).entry())  # type: ignore[union-attr]
    commit = github_parse.commit_from_detail({"sha": "c" * 40, "commit": {"message": subject, "author": {
        "name": author, "date": "2026-12-01T11:00:00-09:30"}}, "files": [{"filename": path or "x.c", "status": "modified"}]})
    suspect = Suspect(commit, 80.0, (Reason(message, 30.0),))
    state = kubernetes_parse.container_state(k8s.V1Pod(metadata=k8s.V1ObjectMeta(name=POD), status=k8s.V1PodStatus(
        reason=message, container_statuses=None)), CONTAINER)
    view = MemoryView(samples=(MemorySample(NOW, 2**20, agent),), limit_bytes=64 * 2**20, now=NOW, container=state,
                      notes=(note, subject))
    diff = annotate_change(path or "x.c", commit.sha, note, f"{note}\n{subject}\n", [])

    class Panes(App[None]):
        CSS = "TimelineTable, SuspectPane, MemoryGraph, AnnotatedDiffView { height: 10; }"

        def compose(self) -> ComposeResult:
            yield TimelineTable()
            yield SuspectPane()
            yield MemoryGraph()
            yield AnnotatedDiffView()

        def on_mount(self) -> None:
            self.query_one(TimelineTable).entries = tuple(entries)
            self.query_one(SuspectPane).suspects = (suspect,)
            self.query_one(MemoryGraph).view = view
            self.query_one(AnnotatedDiffView).diff = diff

    return Panes()


@settings(max_examples=8, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.lists(TEXT, min_size=6, max_size=6))
def test_panes_on_screen_show_upstream_text_without_raw_controls(texts: list[str]) -> None:
    import asyncio

    # GIVEN every pane fed from payloads whose texts are unusual (markup, controls, RTL, long)
    async def run() -> str:
        app = widgets_app(texts)
        async with app.run_test(size=(120, 44)) as pilot:
            await pilot.pause()
            return screen_text(app)

    # WHEN the panes are rendered THEN nothing raised, the panes are there, and no control is raw
    text = asyncio.run(run())
    # (the first line of each pane: later ones may be pushed out of view by a long text)
    assert "time UTC" in text and "score" in text and "1.0 MiB / 64.0 MiB" in text and "0 finding(s)" in text
    assert_terminal_safe(text, multiline=True)


def test_incident_header_shows_a_hostile_title_plainly() -> None:
    import asyncio

    from textual.app import App, ComposeResult

    from widgets.incident_header import IncidentHeader

    # GIVEN an incident whose title holds a markup closing tag and an escape sequence
    incident = pd.parse_incident({"id": "PT4KHLK", "incident_number": 7, "title": "[/] \x1b]2;PWNED\x07 Ω",
                                  "status": "triggered", "service": {"id": "PSVC001", "type": "service_reference",
                                                                     "summary": "ads"}, "created_at": "2026-12-01T11:00:00Z"})

    class Header(App[None]):
        def compose(self) -> ComposeResult:
            yield IncidentHeader()

        def on_mount(self) -> None:
            self.query_one(IncidentHeader).view = HeaderView(incident, "ads", "live")

    async def run() -> str:
        app = Header()
        async with app.run_test(size=(100, 6)) as pilot:
            await pilot.pause()
            return screen_text(app)

    # WHEN shown THEN the title is there, as written, with the escape made visible
    text = asyncio.run(run())
    assert "[/] \\x1b]2;PWNED\\x07 Ω" in text
    assert_terminal_safe(text, multiline=True)


def test_a_timeline_of_thousands_of_entries_renders_and_follows_the_last() -> None:
    import asyncio

    from textual.app import App, ComposeResult

    from widgets.timeline import TimelineTable

    # GIVEN 3000 log entries with hostile notes, a second apart, in a +05:45 zone
    rows = [{"type": "annotate_log_entry", "created_at": f"2026-12-01T17:{i // 60 % 60:02d}:{i % 60:02d}.25+05:45",
             "note": f"\x1b[2J[/] #{i}", "agent": {"id": "PUSER01", "type": "user_reference"}} for i in range(3000)]
    entries = tuple(pd.parse_log_entry(row) for row in rows)

    class Timeline(App[None]):
        def compose(self) -> ComposeResult:
            yield TimelineTable()

        def on_mount(self) -> None:
            self.query_one(TimelineTable).entries = entries

    async def run() -> tuple[int, int, str]:
        app = Timeline()
        async with app.run_test(size=(100, 20)) as pilot:
            await pilot.pause()
            table = app.query_one(TimelineTable)
            return table.row_count, table.cursor_row, screen_text(app)

    # WHEN shown THEN every row is there, the cursor follows the newest, and the screen is plain
    count, cursor, text = asyncio.run(run())
    assert (count, cursor) == (3000, 2999)
    assert "Note added by PUSER01: \\x1b[2J[/] #2999" in text
    assert_terminal_safe(text, multiline=True)
