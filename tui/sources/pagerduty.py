"""The live :class:`~tui.sources.base.IncidentSource`: PagerDuty's REST API v2 over ``httpx``.

Async throughout (STYLE.md rule 4): the dashboard awaits it in ``@work`` coroutines on the UI loop,
so waiting for a rate limit uses ``asyncio.sleep`` and never blocks the interface. Every failure
becomes a :class:`~tui.sources.base.SourceError` whose text is fit to show the user and never
contains the API token (the token lives only in the ``Authorization`` header of each request).
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Iterable, Sequence
from typing import Any, Self

import httpx

from analysis.model import Incident, IncidentStatus, OnCallTeam, TimelineEntry
from tui.config import PagerDutyConfig
from tui.sources.base import AuthError, NotFoundError, RateLimitedError, SourceError
from tui.sources.pagerduty_http import error_text, reset_seconds, segment
from tui.sources.pagerduty_parse import (
    Alert,
    ChangeEvent,
    Note,
    change_event_entries,
    first_name,
    match_service,
    parse_alert,
    parse_change_event,
    parse_incident,
    parse_log_entry,
    parse_note,
    parse_on_call,
)
from tui.sources.urls import display_host

log = logging.getLogger(__name__)

TOKEN_ENV = "PAGERDUTY_API_TOKEN"
"""Environment variable holding the API key."""
ACCEPT = "application/vnd.pagerduty+json;version=2, application/json;q=0.9"
"""The versioned media type, plus plain JSON (a proxy that only knows ``application/json`` answers 406)."""
PAGE_LIMIT = 100
"""The API's largest page."""
MAX_WINDOW = 10_000
"""The API answers 400 once ``offset + limit`` exceeds this."""
MAX_RATE_LIMIT_RETRIES = 1
"""How many 429 answers a call waits out before giving up (then the caller's backoff takes over,
so the dashboard can say it is throttled instead of sitting silent through several resets)."""
MAX_IN_CALL_WAIT = 5.0
"""Longest reset a call sleeps through itself; longer ones go back to the caller to schedule."""
FROM_HINT = "You must specify a user's email address in the From header"
"""The API's 400 message for a write with an account-level key and no ``From``."""
FROM_MISSING = ("PagerDuty needs a user's e-mail for writes with an account-level API key: "
                "set from_email under [pagerduty] in the config (or use a user API key)")
"""What the user is told when a write needs ``From`` and none is configured."""

Json = dict[str, Any]
Params = list[tuple[str, str]]


class PagerDutySource:
    """Reads and acknowledges incidents of the mapped services through PagerDuty's REST API."""

    def __init__(
        self,
        api_url: str,
        token: str,
        *,
        from_email: str | None = None,
        service_ids_or_names: Sequence[str] = (),
        client: httpx.AsyncClient | None = None,
        timeout: float = 10.0,
        max_rate_limit_retries: int = MAX_RATE_LIMIT_RETRIES,
        max_rate_limit_wait: float = MAX_IN_CALL_WAIT,
    ) -> None:
        """Create the source; no request is made until a method is awaited.

        Args:
            api_url: API base URL, e.g. ``https://api.pagerduty.com``.
            token: A user or account (general access) REST API key.
            from_email: ``From`` header for writes; needed only with an account-level key.
            service_ids_or_names: Services to watch, by name or ID; all services when empty.
            client: An ``httpx.AsyncClient`` to share (not closed by :meth:`aclose`); one is
                created when ``None``.
            timeout: Seconds before a request counts as failed.
            max_rate_limit_retries: 429 answers waited out per call before giving up.
            max_rate_limit_wait: Longest reset waited out inside a call; a longer one is raised
                at once as :class:`RateLimitedError` with its ``retry_after``.
        """
        self.api_url = api_url.rstrip("/")
        self.from_email = from_email or None
        self.services = tuple(service_ids_or_names)
        self.timeout = timeout
        self.max_rate_limit_retries = max_rate_limit_retries
        self.max_rate_limit_wait = max_rate_limit_wait
        self._token = token
        self._host = display_host(self.api_url)
        self._owns_client = client is None
        self._client = client or httpx.AsyncClient(timeout=timeout)
        self._service_ids: tuple[str, ...] | None = None
        self._account_key_without_from = False
        # incident -> log entry ID -> (entry, arrival order): what log_entries has read so far
        self._log_rows: dict[str, dict[str, tuple[TimelineEntry, int]]] = {}

    def __repr__(self) -> str:
        """Never shows the token."""
        return f"PagerDutySource(api_url={self.api_url!r}, services={self.services!r}, from_email={self.from_email!r})"

    async def aclose(self) -> None:
        """Close the HTTP client if this source created it."""
        if self._owns_client:
            await self._client.aclose()

    async def __aenter__(self) -> Self:
        """Use as ``async with PagerDutySource(...) as source``."""
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        """Close the client."""
        await self.aclose()

    # -- the IncidentSource protocol -------------------------------------------------------

    async def open_incidents(self) -> list[Incident]:
        """Triggered and acknowledged incidents of the mapped services, newest first.

        Raises:
            SourceError: The API failed, or a configured service does not exist.
        """
        params: Params = [("statuses[]", "triggered"), ("statuses[]", "acknowledged"), ("time_zone", "UTC")]
        params += [("service_ids[]", ident) for ident in await self.service_ids()]
        rows = await self._paginate("/incidents", "incidents", params)
        incidents = [parse_incident(row) for row in rows]
        incidents.sort(key=lambda incident: (incident.created_at, incident.number), reverse=True)
        return incidents

    async def incident(self, incident_id: str) -> Incident:
        """One incident.

        Raises:
            NotFoundError: No such incident.
            SourceError: The API failed or sent an incomplete incident.
        """
        data = await self._get_json(f"/incidents/{segment(incident_id)}", not_found=f"incident {incident_id} not found")
        return parse_incident(data.get("incident"))

    async def log_entries(self, incident_id: str) -> list[TimelineEntry]:
        """The incident's overview log entries as timeline entries, oldest first.

        The dashboard asks every few seconds; after the first read only entries since the newest
        one known are fetched (``since``, inclusive, so an entry of that same second is not
        missed) and merged by ID, so a long incident log is not sent again and again over a slow link.

        Raises:
            NotFoundError: No such incident.
        """
        known = self._log_rows.setdefault(incident_id, {})
        params: Params = [("is_overview", "true"), ("time_zone", "UTC")]
        if newest := max((entry.at for entry, _ in known.values()), default=None):
            params.append(("since", newest.strftime("%Y-%m-%dT%H:%M:%SZ")))
        rows = await self._paginate(f"/incidents/{segment(incident_id)}/log_entries", "log_entries", params,
                                    not_found=f"incident {incident_id} not found")
        # The API lists newest first; number new rows oldest first so entries of the same second
        # (trigger and assign) keep their order in the stable sort below.
        for row in reversed(rows):
            key = str(row.get("id") or len(known))
            if key not in known:
                known[key] = (parse_log_entry(row), len(known))
        return [entry for entry, _ in sorted(known.values(), key=lambda item: (item[0].at, item[1]))]

    async def acknowledge(self, incident_id: str) -> Incident:
        """Acknowledge the incident; an acknowledged or resolved one is returned unchanged, unwritten.

        Raises:
            NotFoundError: No such incident.
            SourceError: The write was refused (e.g. an account key without ``from_email``).
        """
        current = await self.incident(incident_id)
        if current.status is not IncidentStatus.TRIGGERED:
            return current
        data = await self._write(
            "PUT", f"/incidents/{segment(incident_id)}",
            {"incident": {"type": "incident_reference", "status": "acknowledged"}},
            not_found=f"incident {incident_id} not found")
        return parse_incident(data.get("incident"))

    async def add_note(self, incident_id: str, content: str) -> None:
        """Attach a note to the incident.

        Raises:
            NotFoundError: No such incident.
            SourceError: The write was refused.
        """
        await self._write("POST", f"/incidents/{segment(incident_id)}/notes", {"note": {"content": content}},
                          not_found=f"incident {incident_id} not found")

    async def on_call(self, incident_id: str) -> OnCallTeam:
        """Who is on call on the incident's escalation policy, by escalation level.

        The team is the escalation policy's team, else the incident's, else the service's name.

        Raises:
            NotFoundError: No such incident.
        """
        data = await self._get_json(f"/incidents/{segment(incident_id)}", not_found=f"incident {incident_id} not found")
        raw = data.get("incident") if isinstance(data.get("incident"), dict) else {}
        incident = parse_incident(raw)
        policy = raw.get("escalation_policy")
        if not isinstance(policy, dict) or not policy.get("id"):
            return OnCallTeam(team=incident.service, escalation_policy="(none)")
        policy_name = policy.get("summary") or policy["id"]
        team = await self._policy_team(policy["id"]) or first_name(raw.get("teams")) or incident.service
        rows = await self._paginate("/oncalls", "oncalls",
                                    [("escalation_policy_ids[]", policy["id"]), ("time_zone", "UTC")])
        return parse_on_call(policy_name, team, rows)

    # -- extras for the incident pane and the report ---------------------------------------

    async def alerts(self, incident_id: str) -> list[Alert]:
        """The alerts grouped into the incident, as PagerDuty lists them."""
        rows = await self._paginate(f"/incidents/{segment(incident_id)}/alerts", "alerts", [],
                                    not_found=f"incident {incident_id} not found")
        return [parse_alert(row) for row in rows]

    async def notes(self, incident_id: str) -> list[Note]:
        """The incident's notes, oldest first."""
        data = await self._get_json(f"/incidents/{segment(incident_id)}/notes", not_found=f"incident {incident_id} not found")
        return sorted((parse_note(row) for row in data.get("notes") or []), key=lambda note: note.created_at)

    async def related_change_events(self, incident_id: str) -> list[ChangeEvent]:
        """Change events PagerDuty correlates with the incident, with its ``correlation_reason``.

        Change correlation depends on the account's plan and the key's permissions, so a 403 or 404
        means "nothing to show", not an error.
        """
        data = await self._get_json(f"/incidents/{segment(incident_id)}/related_change_events", not_found=None,
                                    forbidden_ok=True, missing_ok=True)
        return [parse_change_event(row) for row in (data or {}).get("change_events") or []]

    async def change_events(self, incident_id: str) -> list[TimelineEntry]:
        """The related change events as ``CHANGE`` timeline entries, with PagerDuty's reason."""
        return change_event_entries(await self.related_change_events(incident_id))

    async def token_kind(self) -> str:
        """``"user"`` for a user-level key, ``"account"`` for an account-level (general access) key.

        ``GET /users/me`` only makes sense for a user key; account keys get 400 (403/404 on some
        accounts), which is how they are told apart.
        """
        response = await self._send("GET", "/users/me", tolerate=(400, 403, 404))
        return "user" if response.status_code == 200 else "account"

    async def service_ids(self) -> tuple[str, ...]:
        """IDs of the configured services, resolving names with ``GET /services?query=`` once.

        Raises:
            SourceError: A name matches no service.
        """
        if self._service_ids is None:
            resolved: list[str] = []
            for wanted in self.services:
                rows = await self._paginate("/services", "services", [("query", wanted)])
                ident = match_service(rows, wanted)
                if ident is None:
                    raise SourceError(f"PagerDuty has no service named {wanted!r}: check [[service]] pagerduty_service")
                resolved.append(ident)
            self._service_ids = tuple(dict.fromkeys(resolved))
        return self._service_ids

    # -- HTTP ------------------------------------------------------------------------------

    def _headers(self, *, write: bool) -> dict[str, str]:
        headers = {
            "Authorization": f"Token token={self._token}",
            # The spec requires Content-Type even on GET (Prism answers 400 without it).
            "Content-Type": "application/json",
            "Accept": ACCEPT,
        }
        if write and self.from_email:
            headers["From"] = self.from_email
        return headers

    async def _policy_team(self, policy_id: str) -> str | None:
        """The escalation policy's team name, or ``None`` when it has none or cannot be read."""
        data = await self._get_json(f"/escalation_policies/{segment(policy_id)}", not_found=None, forbidden_ok=True,
                                    missing_ok=True)
        policy = data.get("escalation_policy") if isinstance(data, dict) else None
        return first_name(policy.get("teams")) if isinstance(policy, dict) else None

    async def _paginate(self, path: str, key: str, params: Params, *, not_found: str | None = None) -> list[Any]:
        """Every item of a classic (offset) paginated list, within the API's 10,000 window."""
        items: list[Any] = []
        offset = 0
        while True:
            page = await self._get_json(path, params + [("limit", str(PAGE_LIMIT)), ("offset", str(offset))],
                                        not_found=not_found)
            rows = page.get(key)
            if not isinstance(rows, list):
                raise SourceError(f"PagerDuty returned no {key!r} list for GET {path}")
            items.extend(rows)
            offset += PAGE_LIMIT
            if not page.get("more") or not rows:
                return items
            if offset + PAGE_LIMIT > MAX_WINDOW:
                log.warning("GET %s: stopped at PagerDuty's %d-item window", path, MAX_WINDOW)
                return items

    async def _get_json(self, path: str, params: Params | None = None, *, not_found: str | None,
                        forbidden_ok: bool = False, missing_ok: bool = False) -> Any:
        """GET ``path`` and decode its JSON object; ``None`` for a tolerated 403/404."""
        tolerate = ((403,) if forbidden_ok else ()) + ((404,) if missing_ok else ())
        response = await self._send("GET", path, params=params, not_found=not_found, tolerate=tolerate)
        if response.status_code in tolerate:
            return None
        return self._json(response)

    async def _write(self, method: str, path: str, body: Json, *, not_found: str) -> Json:
        """Send a write, explaining the account-key ``From`` rule when the API invokes it."""
        if self._account_key_without_from and not self.from_email:
            raise SourceError(FROM_MISSING)
        response = await self._send(method, path, json=body, not_found=not_found, tolerate=(400,))
        if response.status_code == 400:
            detail = error_text(response)
            if FROM_HINT.lower() in detail.lower() or "from header" in detail.lower():
                if not self.from_email:
                    # Remember: every later write would get the same answer.
                    self._account_key_without_from = True
                    raise SourceError(FROM_MISSING)
                raise SourceError(f"PagerDuty refused From: {self.from_email} ({detail}): "
                                  "set [pagerduty] from_email to the e-mail of a user in the account")
            raise SourceError(f"PagerDuty refused {method} {path} (400): {detail}")
        return self._json(response)

    async def _send(self, method: str, path: str, *, params: Params | None = None, json: Json | None = None,
                    not_found: str | None = None, tolerate: Iterable[int] = ()) -> httpx.Response:
        """One API call with rate-limit retries; raises :class:`SourceError` on any failure not tolerated."""
        tolerate = tuple(tolerate)
        for attempt in range(self.max_rate_limit_retries + 1):
            try:
                response = await self._client.request(
                    method, f"{self.api_url}{path}", params=params, json=json,
                    headers=self._headers(write=method != "GET"), timeout=self.timeout)
            except httpx.TimeoutException:
                raise SourceError(f"PagerDuty at {self._host} did not answer within {self.timeout:g}s") from None
            except httpx.TransportError as error:
                # from None: keep the chained traceback free of request objects.
                raise SourceError(f"cannot reach PagerDuty at {self._host}: {type(error).__name__}") from None
            log.debug("%s %s -> %d", method, path, response.status_code)
            if response.status_code != 429:
                break
            wait = reset_seconds(response)
            # A long reset is not waited out inside the call: the caller (the dashboard's backoff)
            # shows the countdown and comes back when the server said.
            if attempt == self.max_rate_limit_retries or wait > self.max_rate_limit_wait:
                raise RateLimitedError(f"PagerDuty rate limit: retry in {wait:.0f}s", retry_after=wait)
            log.info("PagerDuty rate limit on %s %s: waiting %.1fs", method, path, wait)
            await asyncio.sleep(wait)
        status = response.status_code
        if status < 300 or status in tolerate:
            return response
        if status == 401:
            raise AuthError(f"PagerDuty rejected the token (401): check {TOKEN_ENV}")
        if status == 403:
            raise AuthError(f"PagerDuty denied {method} {path} (403): the API key lacks permission for it")
        if status == 404 and not_found:
            raise NotFoundError(not_found)
        raise SourceError(f"PagerDuty answered {status} to {method} {path}: {error_text(response)}")

    def _json(self, response: httpx.Response) -> Json:
        try:
            data = response.json()
        except ValueError:
            raise SourceError(f"PagerDuty at {self._host} returned malformed JSON for "
                              f"{response.request.method} {response.request.url.path}") from None
        if not isinstance(data, dict):
            raise SourceError(f"PagerDuty returned unexpected JSON for {response.request.url.path}")
        return data


def from_environment(config: PagerDutyConfig, services: Sequence[str] = (), *,
                     client: httpx.AsyncClient | None = None) -> PagerDutySource:
    """Build the live source from the config and ``PAGERDUTY_API_TOKEN``.

    Args:
        config: The ``[pagerduty]`` table.
        services: PagerDuty service names or IDs of the mapped services.
        client: An ``httpx.AsyncClient`` to share, if any.

    Raises:
        SourceError: ``PAGERDUTY_API_TOKEN`` is not set.
    """
    token = os.environ.get(TOKEN_ENV, "").strip()
    if not token:
        raise SourceError(f"{TOKEN_ENV} is not set: export a PagerDuty REST API key")
    return PagerDutySource(config.api_url, token, from_email=config.from_email,
                           service_ids_or_names=services, client=client)
