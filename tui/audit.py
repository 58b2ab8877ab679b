"""The audit log: one JSON line per write (or refused write) in ``<state_dir>/audit.jsonl``.

Every acknowledgement, note, fix branch, fix commit, fix PR, demo merge and report file the tool
writes, refuses or fails to write is recorded with when (UTC), who (the OS user plus the upstream
identity when it is known without a request), what, where, a short summary of the request and how
it ended: ``ok``, ``reused`` (the thing already existed; nothing new was written), ``refused:
read-only`` or ``failed: <message>``.

Each line is written with a single ``write(2)`` on a descriptor opened with ``O_APPEND``, so lines
from concurrent writers (two dashboards on one state directory) never interleave. Writing the
audit line must never cost the user the write it records: :meth:`AuditLog.record` never raises;
a failure is logged, kept in :attr:`AuditLog.failures` for the caller to show, and the operation's
result is returned as usual. Tokens never reach the file: callers pass no credentials, and the
values of the token environment variables are masked in every line as a last line of defence.
"""

from __future__ import annotations

import getpass
import json
import logging
import os
from collections.abc import Mapping
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tui.session import SourceSet

log = logging.getLogger(__name__)

AUDIT_FILE = "audit.jsonl"
"""File name of the audit log inside the state directory."""
OK = "ok"
"""Result: the write happened."""
REUSED = "reused"
"""Result: what the write would create already existed, so nothing new was written."""
REFUSED = "refused: read-only"
"""Result: ``--read-only`` refused the write."""
SECRET_ENVIRONMENT = ("PAGERDUTY_API_TOKEN", "GITHUB_TOKEN")
"""Environment variables whose values must never appear in the log."""
REDACTED = "<redacted>"
"""What a masked secret is replaced by."""


def failed(message: str) -> str:
    """The result string of a write that failed with ``message``."""
    return f"failed: {message}"


def os_user() -> str:
    """The operating-system user running the tool (the uid when it has no name)."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # a container uid without a passwd entry
        return str(os.getuid())


def _redact(text: str) -> str:
    """``text`` with the value of every token environment variable masked."""
    for name in SECRET_ENVIRONMENT:
        secret = os.environ.get(name, "").strip()
        # Very short values would mask ordinary words; real tokens are long.
        if len(secret) >= 8 and secret in text:
            text = text.replace(secret, REDACTED)
    return text


class AuditLog:
    """Appends audit records to one file; collects the failures to append for the caller to show."""

    def __init__(self, path: Path, identity: Mapping[str, str] | None = None) -> None:
        """Create the log; the file and its directory are created on the first record.

        Args:
            path: The JSON Lines file, usually ``<state_dir>/audit.jsonl``.
            identity: Who acts, e.g. ``{"os_user": "sam", "pagerduty": "sam@example.com"}``;
                never a credential. Defaults to the OS user alone.
        """
        self.path = Path(path)
        self.identity = dict(identity) if identity else {"os_user": os_user()}
        self.failures: list[str] = []
        """Messages of records that could not be written, oldest first."""
        self.entries: list[dict[str, Any]] = []
        """What this handle recorded (written or not), oldest first: callers read outcomes here."""

    def record(self, action: str, target: str, request: str, result: str) -> bool:
        """Append one line; never raises.

        Args:
            action: ``acknowledge``, ``note``, ``branch``, ``commit``, ``pull_request``, ``merge`` or ``report``.
            target: What was written: the incident, ``owner/repo@branch``, ``owner/repo#42``, a path.
            request: A one-line summary of what was asked (never a body with credentials).
            result: :data:`OK`, :data:`REUSED`, :data:`REFUSED` or :func:`failed`'s string.

        Returns:
            Whether the line was written.
        """
        try:
            entry: dict[str, Any] = {
                "time": datetime.now(timezone.utc).isoformat(timespec="milliseconds"),
                "user": self.identity,
                "action": action,
                "target": target,
                "request": request,
                "result": result,
            }
            self.entries.append(entry)
            data = (_redact(json.dumps(entry, ensure_ascii=False, default=str)) + "\n").encode("utf-8")
            self.path.parent.mkdir(parents=True, exist_ok=True)
            descriptor = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                written = os.write(descriptor, data)
            finally:
                os.close(descriptor)
            if written != len(data):
                raise OSError(f"short write ({written} of {len(data)} bytes)")
        except Exception as error:  # the audited write already happened: report, never lose its result
            message = f"audit log {self.path} not written ({action} {result}): {error}"
            log.warning("%s", message)
            self.failures.append(message)
            return False
        return True


def identity(sources: SourceSet) -> dict[str, str]:
    """Who acts, as far as it is known without a request: the OS user and the upstream user.

    Never a credential: the PagerDuty identity is the configured ``From`` e-mail (live) or the
    demo store's acting responder. The GitHub login would cost a request, so it is left out.
    """
    who = {"os_user": os_user()}
    email = getattr(sources.incidents, "from_email", None)
    if isinstance(email, str) and email:
        who["pagerduty"] = email
    primary = getattr(getattr(sources.incidents, "blocking", None), "primary", None)
    if primary is not None and getattr(primary, "name", None):
        who["incident_store"] = primary.name
    return who


def for_session(sources: SourceSet) -> AuditLog:
    """The session's audit log, ``<state_dir>/audit.jsonl``, acting as :func:`identity` says."""
    return AuditLog(Path(sources.state_dir) / AUDIT_FILE, identity(sources))


def read_audit(path: Path) -> list[dict[str, Any]]:
    """The records of an audit log, oldest first ([] when it does not exist)."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        return []
    return [json.loads(line) for line in text.splitlines() if line.strip()]
