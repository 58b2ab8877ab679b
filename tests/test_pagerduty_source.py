"""The live PagerDuty source against our stateful fake, with Prism validating both directions
against PagerDuty's official OpenAPI description (TESTING.md)."""

from __future__ import annotations

import logging
import socket
from collections.abc import AsyncIterator, Callable
from datetime import datetime

import pytest

from analysis.model import IncidentStatus, OnCallTeam, Responder, TimelineKind

# The plugin below is also imported for its constants: let pytest rewrite its asserts first.
pytest.register_assert_rewrite("tests.fixtures_live")

from tests.fixtures_live import (
    ACCOUNT_TOKEN,
    ACKED_INCIDENT,
    ADS_NAME,
    ADS_OPEN,
    ADS_SERVICE,
    NO_CHANGES_INCIDENT,
    OPEN_INCIDENT,
    SAM_EMAIL,
    STORY_INCIDENT,
    USER_TOKEN,
    PagerDutyStack,
)
from tui.config import PagerDutyConfig
from tui.sources.base import NotFoundError, SourceError
from tui.sources.pagerduty import PagerDutySource, from_environment

pytest_plugins = ["tests.fixtures_live"]

SourceFactory = Callable[..., PagerDutySource]


@pytest.fixture
async def make_source(pagerduty: PagerDutyStack) -> AsyncIterator[SourceFactory]:
    """Build sources pointed at Prism (user key and ads-demo-service by default); closes them after."""
    made: list[PagerDutySource] = []

    def make(token: str = USER_TOKEN, **kwargs: object) -> PagerDutySource:
        kwargs.setdefault("service_ids_or_names", (ADS_NAME,))
        source = PagerDutySource(pagerduty.url, token, **kwargs)  # type: ignore[arg-type]
        made.append(source)
        return source

    yield make
    for source in made:
        await source.aclose()


def header(request: dict[str, object], name: str) -> str | None:
    """A header of a recorded request, by case-insensitive name (Prism lowercases them)."""
    headers: dict[str, str] = request["headers"]  # type: ignore[assignment]
    return next((value for key, value in headers.items() if key.lower() == name.lower()), None)


def assert_no_token(*texts: object) -> None:
    """None of ``texts`` (messages, reprs, log lines) contains either test token."""
    for text in texts:
        assert USER_TOKEN not in str(text) and ACCOUNT_TOKEN not in str(text), f"token leaked in {text!r}"
        assert "DO-NOT-LEAK" not in repr(text)


async def test_open_incidents_of_a_service_by_name_span_pages_newest_first(
        pagerduty: PagerDutyStack, make_source: SourceFactory) -> None:
    # GIVEN ads-demo-service with 130 open incidents (and a "-canary" service matching the same query)
    source = make_source()
    # WHEN the open incidents are listed
    incidents = await source.open_incidents()
    # THEN all of them come back, only that service's, only open ones, newest first
    assert len(incidents) == ADS_OPEN
    assert {i.service for i in incidents} == {ADS_NAME}
    assert {i.status for i in incidents} == {IncidentStatus.TRIGGERED, IncidentStatus.ACKNOWLEDGED}
    assert incidents[0].id == OPEN_INCIDENT
    assert [i.created_at for i in incidents] == sorted((i.created_at for i in incidents), reverse=True)
    # AND the name was resolved once, then pages of 100 were read with the documented filters
    assert len(pagerduty.requests("GET", "/services")) == 1
    pages = pagerduty.requests("GET", "/incidents")
    assert [(p["query"]["offset"], p["query"]["limit"]) for p in pages] == [(["0"], ["100"]), (["100"], ["100"])]
    assert pages[0]["query"]["service_ids[]"] == [ADS_SERVICE]
    assert pages[0]["query"]["statuses[]"] == ["triggered", "acknowledged"]
    # AND a second listing reuses the resolved service ID
    await source.open_incidents()
    assert len(pagerduty.requests("GET", "/services")) == 1


async def test_headers_sent_are_the_documented_set(pagerduty: PagerDutyStack, make_source: SourceFactory) -> None:
    # GIVEN a source with a user key
    source = make_source()
    # WHEN it reads an incident
    await source.incident(OPEN_INCIDENT)
    # THEN the server saw the versioned Accept, JSON Content-Type even on GET, and the token header
    request = pagerduty.requests("GET", f"/incidents/{OPEN_INCIDENT}")[0]
    assert header(request, "Accept") == "application/vnd.pagerduty+json;version=2, application/json;q=0.9"
    assert header(request, "Content-Type") == "application/json"
    assert header(request, "Authorization") == "<redacted>"
    assert header(request, "From") is None


async def test_get_one_incident(make_source: SourceFactory) -> None:
    # GIVEN the triggered OOM incident
    source = make_source()
    # WHEN it is fetched
    incident = await source.incident(OPEN_INCIDENT)
    # THEN every field the dashboard shows is mapped
    assert (incident.number, incident.title, incident.service) == (3001, "worker-container OOMKilled", ADS_NAME)
    assert incident.status is IncidentStatus.TRIGGERED and incident.urgency == "high"
    assert incident.assignee == "Sam Okafor" and incident.severity == "P1"
    assert incident.created_at.tzinfo is not None and incident.acknowledged_at is None
    assert incident.html_url and incident.html_url.endswith(OPEN_INCIDENT)
    assert incident.service_id == ADS_SERVICE


async def test_unknown_incident_is_not_found_with_its_id(make_source: SourceFactory) -> None:
    # GIVEN an ID PagerDuty does not know
    source = make_source()
    # WHEN it is fetched
    with pytest.raises(NotFoundError) as raised:
        await source.incident("Q0NOSUCHINCID1")
    # THEN the error names it
    assert str(raised.value) == "incident Q0NOSUCHINCID1 not found"


async def test_log_entries_are_mapped_to_readable_timeline_entries_oldest_first(make_source: SourceFactory) -> None:
    # GIVEN a resolved incident with trigger, assign, notify, escalate, acknowledge, note, snooze, resolve
    source = make_source()
    # WHEN its log is read
    entries = await source.log_entries(STORY_INCIDENT)
    # THEN each is an INCIDENT entry from pagerduty with a readable summary, oldest first
    assert {(e.kind, e.source) for e in entries} == {(TimelineKind.INCIDENT, "pagerduty")}
    assert [e.summary for e in entries] == [
        "Triggered via the API: worker-container OOMKilled",
        "Assigned to Sam Okafor by ads-demo-service",
        "Notified Sam Okafor by push notification",
        "Escalated to Lena Fischer by ads-demo-service",
        "Acknowledged by Lena Fischer",
        "Note added by Lena Fischer: rolled back to r41",
        "Snoozed by Lena Fischer for 30 min",
        "Resolved by Lena Fischer",
    ]
    assert [e.at for e in entries] == sorted(e.at for e in entries)


async def test_later_log_reads_fetch_only_new_entries(pagerduty: PagerDutyStack, make_source: SourceFactory) -> None:
    # GIVEN a triggered incident whose log has been read once
    source = make_source()
    first = await source.log_entries(OPEN_INCIDENT)
    path = f"/incidents/{OPEN_INCIDENT}/log_entries"
    # WHEN it is acknowledged elsewhere (a new log entry) and the log is read again
    await source.acknowledge(OPEN_INCIDENT)
    second = await source.log_entries(OPEN_INCIDENT)
    # THEN the second read asked only for entries since the newest known one
    reads = pagerduty.requests("GET", path)
    assert "since" not in reads[0]["query"]
    assert reads[1]["query"]["since"] == [first[-1].at.strftime("%Y-%m-%dT%H:%M:%SZ")]
    # AND the result is the whole log, the new entry last, nothing twice
    assert [e.summary for e in second[:-1]] == [e.summary for e in first]
    assert second[-1].summary.startswith("Acknowledged by")
    # AND a read with nothing new returns the same log
    assert [e.summary for e in await source.log_entries(OPEN_INCIDENT)] == [e.summary for e in second]


async def test_acknowledge_with_a_user_key_writes_once(pagerduty: PagerDutyStack, make_source: SourceFactory) -> None:
    # GIVEN a triggered incident and a user key (no From needed)
    source = make_source()
    assert await source.token_kind() == "user"
    # WHEN it is acknowledged twice
    first = await source.acknowledge(OPEN_INCIDENT)
    second = await source.acknowledge(OPEN_INCIDENT)
    # THEN it is acknowledged, by one PUT with the documented body, and logged once
    assert first.status is second.status is IncidentStatus.ACKNOWLEDGED
    assert first.acknowledged_at is not None
    puts = pagerduty.requests("PUT", f"/incidents/{OPEN_INCIDENT}")
    assert [p["body"] for p in puts] == [{"incident": {"type": "incident_reference", "status": "acknowledged"}}]
    log = await source.log_entries(OPEN_INCIDENT)
    assert [e.summary for e in log if e.summary.startswith("Acknowledged")] == ["Acknowledged by Sam Okafor"]


async def test_acknowledging_an_acknowledged_incident_sends_no_write(
        pagerduty: PagerDutyStack, make_source: SourceFactory) -> None:
    # GIVEN an incident that is already acknowledged
    source = make_source()
    # WHEN it is acknowledged
    incident = await source.acknowledge(ACKED_INCIDENT)
    # THEN it is returned as it is and nothing is written
    assert incident.status is IncidentStatus.ACKNOWLEDGED
    assert pagerduty.requests("PUT") == []


async def test_account_key_without_from_email_gets_a_clear_error(
        pagerduty: PagerDutyStack, make_source: SourceFactory) -> None:
    # GIVEN an account-level key and no from_email
    source = make_source(ACCOUNT_TOKEN)
    assert await source.token_kind() == "account"
    # WHEN an incident is acknowledged
    with pytest.raises(SourceError) as raised:
        await source.acknowledge(OPEN_INCIDENT)
    # THEN the API's From error becomes advice to set [pagerduty] from_email, with no token in it
    assert "from_email" in str(raised.value) and "[pagerduty]" in str(raised.value)
    assert_no_token(raised.value, repr(raised.value))
    assert [p["status"] for p in pagerduty.requests("PUT")] == [400]
    # AND a second write fails the same way without bothering the API again
    with pytest.raises(SourceError, match="from_email"):
        await source.add_note(OPEN_INCIDENT, "looking")
    assert pagerduty.requests("POST") == []


async def test_account_key_with_from_email_acknowledges(pagerduty: PagerDutyStack, make_source: SourceFactory) -> None:
    # GIVEN an account-level key whose first write without From was refused
    without = make_source(ACCOUNT_TOKEN)
    with pytest.raises(SourceError, match="from_email"):
        await without.acknowledge(OPEN_INCIDENT)
    # WHEN from_email is configured and the incident acknowledged
    source = make_source(ACCOUNT_TOKEN, from_email=SAM_EMAIL)
    incident = await source.acknowledge(OPEN_INCIDENT)
    # THEN it is acknowledged, the write carried From, and the log names that user
    assert incident.status is IncidentStatus.ACKNOWLEDGED
    puts = pagerduty.requests("PUT", f"/incidents/{OPEN_INCIDENT}")
    assert [(p["status"], header(p, "From")) for p in puts] == [(400, None), (200, SAM_EMAIL)]
    assert "Acknowledged by Sam Okafor" in [e.summary for e in await source.log_entries(OPEN_INCIDENT)]


async def test_note_is_posted_with_the_documented_body(pagerduty: PagerDutyStack, make_source: SourceFactory) -> None:
    # GIVEN an open incident
    source = make_source()
    # WHEN a note is added
    await source.add_note(OPEN_INCIDENT, "OOM in worker.c loop; rolling back")
    # THEN the server received it as {"note": {"content": ...}} and lists it
    posts = pagerduty.requests("POST", f"/incidents/{OPEN_INCIDENT}/notes")
    assert [p["body"] for p in posts] == [{"note": {"content": "OOM in worker.c loop; rolling back"}}]
    notes = await source.notes(OPEN_INCIDENT)
    assert [(n.author, n.content) for n in notes] == [("Sam Okafor", "OOM in worker.c loop; rolling back")]


async def test_on_call_team_comes_from_the_escalation_policy(make_source: SourceFactory) -> None:
    # GIVEN ads-demo-service's policy with Sam (level 1, on two schedules) and Lena (level 2)
    source = make_source()
    # WHEN the on-call team of an incident is read
    team = await source.on_call(OPEN_INCIDENT)
    # THEN it names the policy's team and lists each responder once, by level
    assert team == OnCallTeam(team="Ads Platform", escalation_policy="Ads Platform - Default", responders=(
        Responder(name="Sam Okafor", handle="sokafor", level=1),
        Responder(name="Lena Fischer", handle="lfischer", level=2)))


async def test_alerts_and_related_change_events(make_source: SourceFactory) -> None:
    # GIVEN the OOM incident with one alert and two correlated changes, and one where changes are forbidden
    source = make_source()
    # WHEN alerts and related change events are read
    alerts = await source.alerts(OPEN_INCIDENT)
    changes = await source.related_change_events(OPEN_INCIDENT)
    forbidden = await source.related_change_events(NO_CHANGES_INCIDENT)
    # THEN they are mapped, keeping PagerDuty's correlation reason, and 403 means "none"
    assert [(a.summary, a.severity, dict(a.details)["exit_code"]) for a in alerts] == [
        ("worker-container OOMKilled", "critical", "137")]
    assert [(c.summary, c.correlation_reason, c.services) for c in changes] == [
        ("deploy worker r42", "related_service", (ADS_NAME,)),
        ("raise worker buffer size", "intelligent", (ADS_NAME,))]
    assert changes[0].links == ("https://ci.example.com/builds/42",)
    assert forbidden == []
    # AND as timeline entries they are CHANGE entries that say why PagerDuty relates them
    entries = await source.change_events(OPEN_INCIDENT)
    assert [e.kind.value for e in entries] == ["change", "change"]
    assert {e.summary.split(" from ")[0] for e in entries} == {"deploy worker r42", "raise worker buffer size"}
    assert all(e.summary.endswith(("(related_service)", "(intelligent)")) for e in entries)


async def test_rate_limit_is_waited_out_for_ratelimit_reset(pagerduty: PagerDutyStack, make_source: SourceFactory) -> None:
    # GIVEN the API answers the next request with 429 and ratelimit-reset: 1
    source = make_source()
    pagerduty.control(fail={"status": 429, "count": 1, "reset": 1})
    # WHEN an incident is read
    incident = await source.incident(OPEN_INCIDENT)
    # THEN the call succeeds after a retry that came about one second later (server clock)
    assert incident.id == OPEN_INCIDENT
    first, second = pagerduty.requests("GET", f"/incidents/{OPEN_INCIDENT}")
    assert (first["status"], second["status"]) == (429, 200)
    assert 0.9 <= second["at"] - first["at"] < 2.5


async def test_persistent_rate_limit_gives_up_with_the_reset_time(
        pagerduty: PagerDutyStack, make_source: SourceFactory) -> None:
    # GIVEN the API keeps answering 429 (reset 0 s, so the test does not wait)
    source = make_source(max_rate_limit_retries=2)
    pagerduty.control(fail={"status": 429, "count": 5, "reset": 0})
    # WHEN an incident is read
    with pytest.raises(SourceError) as raised:
        await source.incident(OPEN_INCIDENT)
    # THEN after the bounded retries the error says so
    assert str(raised.value) == "PagerDuty rate limit: retry in 0s"
    assert len(pagerduty.requests("GET")) == 3


async def test_server_error_and_malformed_json_become_source_errors(
        pagerduty: PagerDutyStack, make_source: SourceFactory) -> None:
    # GIVEN an API that fails once with 500
    source = make_source()
    pagerduty.control(fail={"status": 500, "count": 1})
    # WHEN an incident is read
    with pytest.raises(SourceError) as raised:
        await source.incident(OPEN_INCIDENT)
    # THEN the error names the status
    assert "500" in str(raised.value)
    # AND a body that is not JSON (straight from the fake: Prism would turn it into a 500) is reported
    pagerduty.control(malformed=1)
    async with PagerDutySource(pagerduty.fake_url, USER_TOKEN) as direct:
        with pytest.raises(SourceError, match="malformed JSON"):
            await direct.open_incidents()


async def test_forbidden_is_reported_as_a_permission_problem(
        pagerduty: PagerDutyStack, make_source: SourceFactory) -> None:
    # GIVEN a key that may not read the incident (the API answers 403)
    source = make_source()
    pagerduty.control(fail={"status": 403, "count": 1})
    # WHEN it is read
    with pytest.raises(SourceError) as raised:
        await source.incident(OPEN_INCIDENT)
    # THEN the message says the key lacks permission, naming what was refused
    assert str(raised.value) == f"PagerDuty denied GET /incidents/{OPEN_INCIDENT} (403): the API key lacks permission for it"


async def test_bad_token_is_reported_without_the_token(
        pagerduty: PagerDutyStack, make_source: SourceFactory, caplog: pytest.LogCaptureFixture) -> None:
    # GIVEN a key PagerDuty does not accept (recognisable, so leaks can be found)
    bad = "pdtok-WRONG-000000-DO-NOT-LEAK"
    source = make_source(bad)
    caplog.set_level(logging.DEBUG)
    # WHEN incidents are listed
    with pytest.raises(SourceError) as raised:
        await source.open_incidents()
    # THEN the message says what to check, and neither it, the repr nor any log line holds the key
    assert str(raised.value) == "PagerDuty rejected the token (401): check PAGERDUTY_API_TOKEN"
    for text in (str(raised.value), repr(raised.value), repr(source), caplog.text, repr(raised.value.__cause__)):
        assert bad not in text and "DO-NOT-LEAK" not in text


async def test_dead_api_names_the_host(make_source: SourceFactory) -> None:
    # GIVEN an API URL whose port nobody listens on
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    source = PagerDutySource(f"http://127.0.0.1:{port}", USER_TOKEN, timeout=5)
    # WHEN an incident is read
    with pytest.raises(SourceError) as raised:
        await source.incident(OPEN_INCIDENT)
    await source.aclose()
    # THEN the error names the host and not the token
    assert f"127.0.0.1:{port}" in str(raised.value)
    assert_no_token(raised.value, repr(raised.value), repr(source))


async def test_incomplete_incident_payload_is_a_source_error() -> None:
    # GIVEN an incident payload without its number (Prism does not validate GET /incidents/{id})
    from tui.sources.pagerduty_parse import parse_incident
    payload = {"id": "Q1", "title": "t", "status": "triggered", "service": {"summary": "s"},
               "created_at": "2024-05-01T08:00:00Z"}
    # WHEN it is parsed
    with pytest.raises(SourceError) as raised:
        parse_incident(payload)
    # THEN the error names the field
    assert "incident_number" in str(raised.value)


def test_from_environment_needs_the_token(monkeypatch: pytest.MonkeyPatch) -> None:
    # GIVEN no PAGERDUTY_API_TOKEN
    monkeypatch.delenv("PAGERDUTY_API_TOKEN", raising=False)
    # WHEN the source is built from the config
    # THEN it says which variable to set
    with pytest.raises(SourceError, match="PAGERDUTY_API_TOKEN is not set"):
        from_environment(PagerDutyConfig(), ["ads-demo-service"])


async def test_from_environment_uses_config_and_token(monkeypatch: pytest.MonkeyPatch) -> None:
    # GIVEN the token in the environment and an EU config with from_email
    monkeypatch.setenv("PAGERDUTY_API_TOKEN", USER_TOKEN)
    # WHEN the source is built
    source = from_environment(PagerDutyConfig(api_url="https://api.eu.pagerduty.com", from_email=SAM_EMAIL),
                              [ADS_NAME])
    # THEN it targets that API with those settings and its repr hides the token
    assert (source.api_url, source.from_email, source.services) == ("https://api.eu.pagerduty.com", SAM_EMAIL, (ADS_NAME,))
    assert_no_token(repr(source))
    await source.aclose()


def test_timestamps_are_utc() -> None:
    # GIVEN a PagerDuty timestamp with an offset
    from tui.sources.pagerduty_parse import parse_time
    # WHEN it is parsed
    at = parse_time("2024-05-01T10:00:00+02:00", "x")
    # THEN it is the same instant in UTC
    assert at == datetime.fromisoformat("2024-05-01T08:00:00+00:00") and at.utcoffset().total_seconds() == 0
