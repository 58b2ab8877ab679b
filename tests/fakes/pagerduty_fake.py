"""A stateful fake of the PagerDuty REST API v2, served over real HTTP on loopback.

Tests put Prism (validating against PagerDuty's official OpenAPI description) between the client
and this fake, so every payload built here must match the real API's shapes. The fake keeps
incidents, log entries, notes, alerts, services, escalation policies and on-call entries in memory,
enforces the ``Authorization`` header and, for account-level keys, the ``From`` header on writes,
and records every request it receives.

Two endpoints are for tests only and must be called on the fake's own port (Prism would reject
them, they are not in the spec):

* ``POST /__control`` with ``{"reset": true}`` (reload the seed, forget requests and faults),
  ``{"fail": {"status": 429, "count": N, "reset": S}}`` (the next N API requests answer 429 with
  ``ratelimit-reset: S``), ``{"fail": {"status": 500, "count": N}}`` or ``{"malformed": N}``
  (the next N answers are not JSON), ``{"answer_late": {"method": "POST", "path": "/incidents/ID/notes",
  "seconds": S, "count": N}}`` (the next N matching requests are carried out, then answered only
  after S seconds: a client with a shorter timeout gives up on a write that did succeed).
* ``GET /__requests``: every API request received so far, oldest first, as
  ``{"method", "path", "query", "headers", "body", "status", "at"}`` (``at`` is ``time.time()``;
  the ``Authorization`` value is replaced by ``"<redacted>"``).

Run it as ``python tests/fakes/pagerduty_fake.py --port 0 --seed seed.json``; it prints
``READY <port>`` on stdout once it accepts connections.
"""

from __future__ import annotations

import argparse
import copy
import json
import sys
import threading
import time
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

FROM_REQUIRED = "You must specify a user's email address in the From header"
"""The real API's message for a write with an account key and no ``From``."""
MAX_WINDOW = 10_000
"""PagerDuty refuses ``offset + limit`` beyond this."""
HTML_BASE = "https://fake-subdomain.pagerduty.com"
"""Prefix of the web links the fake hands out."""

Json = dict[str, Any]


def _now() -> str:
    """The current UTC time in PagerDuty's format."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _error(code: int, message: str, *errors: str) -> Json:
    """PagerDuty's error envelope."""
    return {"error": {"code": code, "message": message, "errors": list(errors)}}


class FakePagerDuty:
    """The in-memory account: seed data plus everything written since the last reset."""

    def __init__(self, seed: Json) -> None:
        """Load ``seed`` (see :func:`tests.test_pagerduty_source.build_seed` for its shape)."""
        self.seed = seed
        self.lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        """Back to the seed: no writes, no recorded requests, no pending faults."""
        data = copy.deepcopy(self.seed)
        self.tokens: dict[str, Json] = data.get("tokens", {})
        self.users = {u["id"]: u for u in data.get("users", [])}
        self.teams = {t["id"]: t for t in data.get("teams", [])}
        self.policies = {p["id"]: p for p in data.get("escalation_policies", [])}
        self.services = {s["id"]: s for s in data.get("services", [])}
        self.oncalls: list[Json] = data.get("oncalls", [])
        self.incidents = {i["id"]: i for i in data.get("incidents", [])}
        self.log: dict[str, list[Json]] = data.get("log_entries", {})
        self.alerts: dict[str, list[Json]] = data.get("alerts", {})
        self.notes: dict[str, list[Json]] = data.get("notes", {})
        self.changes: dict[str, list[Json]] = data.get("change_events", {})
        self.changes_forbidden = set(data.get("change_events_forbidden", []))
        self.requests: list[Json] = []
        self.faults: list[Json] = []
        self.late: list[Json] = []
        self.counter = 0

    def take_late(self, method: str, path: str) -> float:
        """Seconds to hold back the answer to this request (0: answer at once); uses up one rule."""
        for index, rule in enumerate(self.late):
            if rule.get("method", method) == method and rule.get("path", path) == path:
                del self.late[index]
                return float(rule.get("seconds", 5))
        return 0.0

    # -- references and objects in the API's shapes ------------------------------------------

    def _ref(self, kind: str, ident: str, summary: str, collection: str) -> Json:
        return {"id": ident, "type": f"{kind}_reference", "summary": summary,
                "self": f"https://api.pagerduty.com/{collection}/{ident}",
                "html_url": f"{HTML_BASE}/{collection}/{ident}"}

    def user_ref(self, user_id: str) -> Json:
        return self._ref("user", user_id, self.users[user_id]["name"], "users")

    def service_ref(self, service_id: str) -> Json:
        return self._ref("service", service_id, self.services[service_id]["name"], "services")

    def team_ref(self, team_id: str) -> Json:
        return self._ref("team", team_id, self.teams[team_id]["name"], "teams")

    def policy_ref(self, policy_id: str) -> Json:
        return self._ref("escalation_policy", policy_id, self.policies[policy_id]["name"], "escalation_policies")

    def incident_ref(self, incident_id: str) -> Json:
        inc = self.incidents[incident_id]
        return self._ref("incident", incident_id, f"[#{inc['number']}] {inc['title']}", "incidents")

    def agent_ref(self, agent: str) -> Json:
        """``"user:PID"`` or ``"service:PID"`` as an agent reference."""
        kind, ident = agent.split(":", 1)
        return self.user_ref(ident) if kind == "user" else self.service_ref(ident)

    def incident_json(self, incident_id: str) -> Json:
        inc = self.incidents[incident_id]
        service = self.services[inc["service"]]
        body: Json = {
            **self.incident_ref(incident_id), "type": "incident",
            "incident_number": inc["number"], "title": inc["title"],
            "created_at": inc["created_at"], "updated_at": inc.get("updated_at", inc["created_at"]),
            "last_status_change_at": inc.get("updated_at", inc["created_at"]),
            "status": inc["status"], "urgency": inc["urgency"],
            "incident_key": inc.get("incident_key", f"key-{incident_id}"),
            "service": self.service_ref(inc["service"]),
            "escalation_policy": self.policy_ref(service["escalation_policy"]),
            "teams": [self.team_ref(t) for t in service.get("teams", [])],
            "assigned_via": "escalation_policy",
            "assignments": [] if inc["status"] == "resolved" or not inc.get("assignee") else
            [{"at": inc["created_at"], "assignee": self.user_ref(inc["assignee"])}],
            "acknowledgements": [{"at": a["at"], "acknowledger": self.user_ref(a["user"])}
                                 for a in inc.get("acknowledgements", [])],
            "alert_counts": {"triggered": 0 if inc["status"] == "resolved" else 1,
                             "resolved": 1 if inc["status"] == "resolved" else 0, "all": 1},
            "is_mergeable": True,
        }
        if inc.get("resolved_at"):
            # The real API sends null while open; the spec does not allow null, so leave it out.
            body["resolved_at"] = inc["resolved_at"]
        if inc.get("priority"):
            body["priority"] = {**self._ref("priority", f"PRI{inc['priority'][-1]}", inc["priority"], "priorities"),
                                "type": "priority", "name": inc["priority"]}
        return body

    def log_entry_json(self, incident_id: str, index: int, entry: Json) -> Json:
        kind = entry["type"]
        body: Json = {
            "id": entry.get("id", f"R{incident_id[-6:]}{index:04d}"), "type": f"{kind}_log_entry",
            "summary": entry.get("summary", kind.capitalize()),
            "self": None, "html_url": None, "created_at": entry["at"],
            "agent": self.agent_ref(entry["agent"]),
            "channel": entry.get("channel", {"type": "auto"}),
            "service": self.service_ref(self.incidents[incident_id]["service"]),
            "incident": self.incident_ref(incident_id),
            "teams": [self.team_ref(t) for t in self.services[self.incidents[incident_id]["service"]].get("teams", [])],
            "contexts": [], "event_details": {"description": self.incidents[incident_id]["title"]},
        }
        if "user" in entry:
            body["user"] = self.user_ref(entry["user"])
        if "assignees" in entry:
            body["assignees"] = [self.user_ref(u) for u in entry["assignees"]]
        if "note" in entry:
            body["note"] = entry["note"]
        return body

    def note_json(self, note: Json) -> Json:
        return {"id": note["id"], "user": self.user_ref(note["user"]), "content": note["content"],
                "created_at": note["at"], "updated_at": note["at"],
                "channel": {"summary": "The PagerDuty website or APIs"}}

    def alert_json(self, incident_id: str, alert: Json) -> Json:
        inc = self.incidents[incident_id]
        return {
            "id": alert["id"], "type": "alert", "summary": alert["summary"], "self": None, "html_url": None,
            "created_at": alert["at"], "status": "resolved" if inc["status"] == "resolved" else "triggered",
            "alert_key": alert.get("alert_key", f"key-{incident_id}"), "suppressed": False,
            "severity": alert.get("severity", "critical"),
            "service": self.service_ref(inc["service"]), "incident": self.incident_ref(incident_id),
            "body": {"type": "alert_body", "contexts": [], "details": alert.get("details", {})},
        }

    def change_json(self, change: Json) -> Json:
        return {
            "id": change["id"], "type": "change_event", "summary": change["summary"],
            "self": None, "html_url": None, "timestamp": change["at"],
            "source": change.get("source", "ci"), "services": [self.service_ref(change["service"])],
            "links": [{"href": link, "text": "link"} for link in change.get("links", [])],
            "custom_details": change.get("details", {}),
            "correlation_reason": {"reason": change.get("reason", "related_service")},
        }

    def service_json(self, service_id: str) -> Json:
        service = self.services[service_id]
        return {**self.service_ref(service_id), "type": "service", "name": service["name"],
                "description": service.get("description", ""), "status": "active",
                "escalation_policy": self.policy_ref(service["escalation_policy"]),
                "teams": [self.team_ref(t) for t in service.get("teams", [])]}

    def policy_json(self, policy_id: str) -> Json:
        policy = self.policies[policy_id]
        levels = sorted({o["level"] for o in self.oncalls if o["escalation_policy"] == policy_id}) or [1]
        rules = [{"id": f"{policy_id}L{level}", "escalation_delay_in_minutes": 30,
                  "targets": [{"id": o["user"], "type": "user_reference"} for o in self.oncalls
                              if o["escalation_policy"] == policy_id and o["level"] == level]
                  or [{"id": next(iter(self.users)), "type": "user_reference"}]} for level in levels]
        return {**self.policy_ref(policy_id), "type": "escalation_policy", "name": policy["name"],
                "num_loops": 0, "escalation_rules": rules,
                "services": [self.service_ref(s) for s, v in self.services.items() if v["escalation_policy"] == policy_id],
                "teams": [self.team_ref(t) for t in policy.get("teams", [])]}

    # -- writes ------------------------------------------------------------------------------

    def acknowledge(self, incident_id: str, user_id: str) -> None:
        """Acknowledge once: a second acknowledge neither changes state nor logs anything."""
        inc = self.incidents[incident_id]
        if inc["status"] != "triggered":
            return
        at = _now()
        inc.update(status="acknowledged", updated_at=at)
        inc.setdefault("acknowledgements", []).append({"at": at, "user": user_id})
        self.log.setdefault(incident_id, []).append(
            {"type": "acknowledge", "at": at, "agent": f"user:{user_id}", "channel": {"type": "website"},
             "summary": f"Acknowledged by {self.users[user_id]['name']}"})

    def add_note(self, incident_id: str, user_id: str, content: str) -> Json:
        self.counter += 1
        note = {"id": f"PN{self.counter:05d}", "user": user_id, "content": content, "at": _now()}
        self.notes.setdefault(incident_id, []).append(note)
        self.log.setdefault(incident_id, []).append(
            {"type": "annotate", "at": note["at"], "agent": f"user:{user_id}",
             "channel": {"type": "note", "summary": content}, "summary": "Note added"})
        return note


class Handler(BaseHTTPRequestHandler):
    """Routes one request to the fake; the routes mirror the real API's."""

    server: FakeServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        """Stay quiet: tests read ``/__requests`` instead of the log."""

    def do_GET(self) -> None:
        self._handle()

    def do_POST(self) -> None:
        self._handle()

    def do_PUT(self) -> None:
        self._handle()

    def _send(self, status: int, payload: Json | None = None, *, raw: bytes | None = None,
              headers: dict[str, str] | None = None) -> None:
        data = raw if raw is not None else json.dumps(payload if payload is not None else {}).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def _handle(self) -> None:
        fake = self.server.fake
        url = urlsplit(self.path)
        query = parse_qs(url.query, keep_blank_values=True)
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = raw.decode("utf-8", "replace")
        if url.path == "/__control" and self.command == "POST":
            with fake.lock:
                self._control(fake, body if isinstance(body, dict) else {})
            return
        if url.path == "/__requests":
            with fake.lock:
                self._send(200, {"requests": fake.requests})
            return
        headers = {k: ("<redacted>" if k.lower() == "authorization" else v) for k, v in self.headers.items()}
        record = {"method": self.command, "path": url.path, "query": query, "headers": headers,
                  "body": body, "at": time.time()}
        with fake.lock:
            fake.requests.append(record)
            status, payload, extra, raw_out = self._route(fake, url.path, query, body)
            record["status"] = status
            delay = fake.take_late(self.command, url.path)
        if delay:
            # The write is done; hold the answer back (outside the lock, so retries are served).
            time.sleep(delay)
        try:
            self._send(status, payload, raw=raw_out, headers=extra)
        except (BrokenPipeError, ConnectionResetError):  # the client (or Prism) gave up waiting
            self.close_connection = True

    def _control(self, fake: FakePagerDuty, command: Json) -> None:
        if command.get("reset"):
            fake.reset()
        if "fail" in command:
            fail = command["fail"]
            fake.faults.extend([fail] * int(fail.get("count", 1)))
        if "malformed" in command:
            fake.faults.extend([{"malformed": True}] * int(command["malformed"]))
        if "answer_late" in command:
            late = command["answer_late"]
            fake.late.extend([late] * int(late.get("count", 1)))
        self._send(200, {"ok": True})

    def _route(self, fake: FakePagerDuty, path: str, query: dict[str, list[str]],
               body: Any) -> tuple[int, Json | None, dict[str, str], bytes | None]:
        if fake.faults:
            fault = fake.faults.pop(0)
            if fault.get("malformed"):
                return 200, None, {}, b'{"incidents": [tr'
            status = int(fault["status"])
            if status == 429:
                return 429, _error(2020, "Rate Limit Exceeded"), {
                    "ratelimit-limit": "960", "ratelimit-remaining": "0",
                    "ratelimit-reset": str(fault.get("reset", 1))}, None
            return status, _error(2999, "Internal Server Error"), {}, None
        token = self._token(fake)
        if token is None:
            return 401, _error(2006, "Unauthorized"), {}, None
        write = self.command in ("PUT", "POST")
        user_id = token.get("user")
        if write and token["kind"] == "account":
            sender = self.headers.get("From")
            if not sender:
                return 400, _error(2001, "Invalid Input Provided", FROM_REQUIRED), {}, None
            user_id = next((u for u, v in fake.users.items() if v["email"] == sender), None)
            if user_id is None:
                return 400, _error(2001, "Invalid Input Provided", "The From header must be a user of the account"), {}, None
        return self._dispatch(fake, path.rstrip("/").split("/")[1:], query, body, token, user_id)

    def _token(self, fake: FakePagerDuty) -> Json | None:
        value = self.headers.get("Authorization", "")
        prefix = "Token token="
        return fake.tokens.get(value[len(prefix):]) if value.startswith(prefix) else None

    def _dispatch(self, fake: FakePagerDuty, parts: list[str], query: dict[str, list[str]], body: Any,
                  token: Json, user_id: str | None) -> tuple[int, Json | None, dict[str, str], bytes | None]:
        not_found = (404, _error(2100, "Not Found"), {}, None)
        method = self.command
        if parts == ["users", "me"]:
            if token["kind"] != "user":
                return 400, _error(2001, "Invalid Input Provided",
                                   "Because this request was made using an account-level access token, "
                                   "we were unable to determine the user's identity."), {}, None
            user = fake.users[token["user"]]
            return 200, {"user": {**fake.user_ref(user["id"]), "type": "user", "name": user["name"],
                                  "email": user["email"]}}, {}, None
        if parts == ["incidents"] and method == "GET":
            statuses = query.get("statuses[]") or ["triggered", "acknowledged", "resolved"]
            services = query.get("service_ids[]")
            ids = [i for i, inc in sorted(fake.incidents.items(), key=lambda kv: (kv[1]["created_at"], kv[0]))
                   if inc["status"] in statuses and (not services or inc["service"] in services)]
            return self._page(query, "incidents", [fake.incident_json(i) for i in ids])
        if parts == ["services"] and method == "GET":
            needle = (query.get("query") or [""])[0].lower()
            ids = [s for s, v in sorted(fake.services.items()) if needle in v["name"].lower()]
            return self._page(query, "services", [fake.service_json(s) for s in ids])
        if parts == ["oncalls"] and method == "GET":
            policies = query.get("escalation_policy_ids[]")
            rows = [{"escalation_policy": fake.policy_ref(o["escalation_policy"]), "user": fake.user_ref(o["user"]),
                     "escalation_level": o["level"]}
                    for o in fake.oncalls if not policies or o["escalation_policy"] in policies]
            return self._page(query, "oncalls", rows)
        if len(parts) == 2 and parts[0] == "escalation_policies" and method == "GET":
            if parts[1] not in fake.policies:
                return not_found
            return 200, {"escalation_policy": fake.policy_json(parts[1])}, {}, None
        if len(parts) < 2 or parts[0] != "incidents" or parts[1] not in fake.incidents:
            return not_found
        incident_id, rest = parts[1], parts[2:]
        if rest == [] and method == "GET":
            return 200, {"incident": fake.incident_json(incident_id)}, {}, None
        if rest == [] and method == "PUT":
            wanted = (body or {}).get("incident", {}) if isinstance(body, dict) else {}
            if wanted.get("status") == "acknowledged" and fake.incidents[incident_id]["status"] != "resolved":
                fake.acknowledge(incident_id, user_id or next(iter(fake.users)))
            return 200, {"incident": fake.incident_json(incident_id)}, {}, None
        if rest == ["log_entries"] and method == "GET":
            entries = [fake.log_entry_json(incident_id, n, e) for n, e in enumerate(fake.log.get(incident_id, []))]
            # The real API lists newest first, entries of the same second included.
            entries = sorted(entries, key=lambda e: e["created_at"])[::-1]
            if since := (query.get("since") or [None])[0]:  # the API's inclusive lower bound
                entries = [e for e in entries if _instant(e["created_at"]) >= _instant(since)]
            return self._page(query, "log_entries", entries)
        if rest == ["alerts"] and method == "GET":
            return self._page(query, "alerts", [fake.alert_json(incident_id, a) for a in fake.alerts.get(incident_id, [])])
        if rest == ["notes"] and method == "GET":
            return 200, {"notes": [fake.note_json(n) for n in fake.notes.get(incident_id, [])]}, {}, None
        if rest == ["notes"] and method == "POST":
            content = (body or {}).get("note", {}).get("content") if isinstance(body, dict) else None
            if not isinstance(content, str) or not content:
                return 400, _error(2001, "Invalid Input Provided", "Note content is required"), {}, None
            note = fake.add_note(incident_id, user_id or next(iter(fake.users)), content)
            return 200, {"note": fake.note_json(note)}, {}, None
        if rest == ["related_change_events"] and method == "GET":
            if incident_id in fake.changes_forbidden:
                return 403, _error(2010, "Access Denied", "Change correlation is not on this plan"), {}, None
            return 200, {"change_events": [fake.change_json(c) for c in fake.changes.get(incident_id, [])]}, {}, None
        return not_found

    @staticmethod
    def _page(query: dict[str, list[str]], key: str, items: list[Json]) -> tuple[int, Json, dict[str, str], None]:
        """Classic offset pagination with the real API's limits."""
        limit = min(int((query.get("limit") or ["25"])[0]), 100)
        offset = int((query.get("offset") or ["0"])[0])
        if offset + limit > MAX_WINDOW:
            return 400, _error(2001, "Invalid Input Provided", "Offset must be less than 10000."), {}, None
        total = len(items) if (query.get("total") or ["false"])[0] == "true" else None
        return 200, {key: items[offset:offset + limit], "limit": limit, "offset": offset,
                     "more": offset + limit < len(items), "total": total}, {}, None


class FakeServer(ThreadingHTTPServer):
    """The HTTP server, carrying the fake's state for its handlers."""

    daemon_threads = True

    def __init__(self, port: int, fake: FakePagerDuty) -> None:
        super().__init__(("127.0.0.1", port), Handler)
        self.fake = fake


def main(argv: list[str] | None = None) -> None:
    """Serve the fake until killed; print ``READY <port>`` once listening."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0, help="TCP port on 127.0.0.1 (0: any free port)")
    parser.add_argument("--seed", required=True, help="JSON file with the account's initial data")
    args = parser.parse_args(argv)
    with open(args.seed, encoding="utf-8") as handle:
        fake = FakePagerDuty(json.load(handle))
    server = FakeServer(args.port, fake)
    print(f"READY {server.server_address[1]}", flush=True)
    server.serve_forever()


def _instant(text: str) -> datetime:
    """An ISO 8601 time with any offset (``Z`` included) as an aware datetime."""
    parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


if __name__ == "__main__":
    sys.exit(main())

