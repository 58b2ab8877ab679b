"""The debug log and secret redaction for everything the CLI writes about itself.

``--debug-log PATH`` (or ``$INCIDENT_TUI_DEBUG_LOG``) sends Python logging at DEBUG, from every
library (httpx, httpcore, urllib3, PyGithub, kubernetes, Textual), to one file. Every line goes
through :class:`RedactingFormatter`, which replaces each known secret with ``***``:

- the values of ``PAGERDUTY_API_TOKEN`` and ``GITHUB_TOKEN`` in the environment;
- bearer tokens, client keys and passwords of the kubeconfig users (``$KUBECONFIG`` or
  ``~/.kube/config``) and the in-cluster service-account token, when readable;
- whatever follows ``Authorization:``, ``Token token=``, ``Bearer`` or ``token``/``password``/
  ``secret`` keys, so a secret that is not in the environment is still masked.

The same :class:`Redactor` cleans the CLI's error lines and the traceback of an unexpected error
(:func:`report_unexpected`), since a traceback can quote arguments and headers.
"""

from __future__ import annotations

import logging
import os
import re
import sys
import time
import traceback
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

DEBUG_LOG_ENV = "INCIDENT_TUI_DEBUG_LOG"
"""Environment variable naming the debug log when ``--debug-log`` is not given."""
SECRET_ENV = ("PAGERDUTY_API_TOKEN", "GITHUB_TOKEN")
"""Environment variables whose values are secrets."""
MASK = "***"
"""What a secret is replaced with."""
SERVICE_ACCOUNT_TOKEN = Path("/var/run/secrets/kubernetes.io/serviceaccount/token")
"""Where Kubernetes mounts a pod's service-account token."""
_STARTED = time.monotonic()
"""When the CLI began (this module is imported before any command runs): start-up milestones are
counted from here."""
_MIN_SECRET_LENGTH = 6
"""Shorter values are not masked literally: masking ``abc`` everywhere would garble the log, and
such a value cannot be a real credential anyway (the patterns below still catch it in headers)."""

_PATTERNS = (
    # Authorization / Proxy-Authorization header, as text or as a repr'd dict entry.
    re.compile(r"(?i)((?:proxy-)?authorization['\"]?\s*[:=]\s*['\"]?)((?:[A-Za-z]+\s+)?(?:token=)?)"
               r"([^\s'\",}]+)"),
    re.compile(r"(?i)(\btoken\s+token=)([^\s'\",}]+)"),
    re.compile(r"(?i)(\bbearer\s+)([^\s'\",}]+)"),
    # key = value / "key": "value" for credential-like keys (api_key, client-key-data, password...).
    re.compile(r"(?i)(\b[\w-]*(?:token|secret|password|passwd|api[_-]?key|key-data)['\"]?\s*[:=]\s*['\"]?)"
               r"(?!\*\*\*)([^\s'\",}]{4,})"),
    # A password in a URL: scheme://user:password@host.
    re.compile(r"(?i)(\b[a-z][a-z0-9+.-]*://[^/@\s:'\"]*:)([^/@\s'\"]+)(?=@)"),
    # The same without the scheme, as a URL's netloc is often quoted: user:password@host.
    re.compile(r"(?<![\w/:])([\w.%-]+:)([^\s/@:'\"]+)(?=@[A-Za-z0-9.-]+)"),
    # Well-known token shapes, wherever they appear.
    re.compile(r"()\b(gh[pousr]_[A-Za-z0-9_]{16,}|github_pat_[A-Za-z0-9_]{20,})"),
)


class Redactor:
    """Replaces known secrets and secret-looking header values in text with ``***``."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        """Create a redactor.

        Args:
            secrets: Literal values to mask wherever they appear (short ones are ignored).
        """
        self._secrets = sorted({s for s in secrets if s and len(s) >= _MIN_SECRET_LENGTH},
                               key=len, reverse=True)

    @property
    def secrets(self) -> tuple[str, ...]:
        """The literal values masked (longest first)."""
        return tuple(self._secrets)

    def redact(self, text: str) -> str:
        """Mask every secret in ``text``.

        Args:
            text: Any text: a log line, an error message, a traceback.

        Returns:
            The text with each secret replaced by ``***``.
        """
        for secret in self._secrets:
            text = text.replace(secret, MASK)
        for pattern in _PATTERNS:
            text = pattern.sub(_mask_last_group, text)
        return text


def _mask_last_group(match: re.Match[str]) -> str:
    """Keep the groups that say what the secret is (``Authorization: Bearer``), mask the value."""
    return "".join(match.groups()[:-1]) + MASK


def known_secrets(environ: dict[str, str] | None = None) -> list[str]:
    """Every secret value this process can know of: the token variables and the kubeconfig's.

    Args:
        environ: The environment (``os.environ`` when ``None``).

    Returns:
        The values, unmasked, in no particular order.
    """
    environ = dict(os.environ if environ is None else environ)
    secrets = [environ[name].strip() for name in SECRET_ENV if environ.get(name, "").strip()]
    for path in _kubeconfig_paths(environ):
        secrets += _kubeconfig_secrets(path)
    try:
        secrets.append(SERVICE_ACCOUNT_TOKEN.read_text(encoding="utf-8").strip())
    except OSError:
        pass  # not in a pod
    return [s for s in secrets if s]


def _kubeconfig_paths(environ: dict[str, str]) -> list[Path]:
    """``$KUBECONFIG`` (a path list, as kubectl reads it), else ``~/.kube/config``."""
    if environ.get("KUBECONFIG"):
        return [Path(p) for p in environ["KUBECONFIG"].split(os.pathsep) if p]
    return [Path(environ.get("HOME") or Path.home()) / ".kube" / "config"]


def _kubeconfig_secrets(path: Path) -> list[str]:
    """The credential values of a kubeconfig's users; nothing when it cannot be read or parsed."""
    try:
        import yaml  # the kubernetes client's dependency

        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except Exception:  # noqa: BLE001 - an unreadable kubeconfig simply has no secrets to mask
        return []
    users = document.get("users") if isinstance(document, dict) else None
    found: list[str] = []
    for entry in users if isinstance(users, list) else []:
        user = entry.get("user") if isinstance(entry, dict) else None
        if isinstance(user, dict):
            found += [v for v in _walk_values(user) if isinstance(v, str)]
    return found


def _walk_values(value: Any) -> Iterator[Any]:
    """Every leaf of a user entry whose key looks like a credential (token, password, key data)."""
    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(item, (dict, list)):
                yield from _walk_values(item)
            elif re.search(r"token|password|key-data|secret", str(key), re.IGNORECASE):
                yield item
    elif isinstance(value, list):
        for item in value:
            yield from _walk_values(item)


class RedactingFormatter(logging.Formatter):
    """A formatter whose whole output (message, arguments and traceback) is redacted."""

    def __init__(self, redactor: Redactor, fmt: str | None = None) -> None:
        """Create the formatter.

        Args:
            redactor: What to mask.
            fmt: The ``logging`` format string.
        """
        super().__init__(fmt or "%(asctime)s %(levelname)s %(name)s: %(message)s")
        self.redactor = redactor

    def format(self, record: logging.LogRecord) -> str:
        """Format the record as usual, then mask every secret in the result."""
        return self.redactor.redact(super().format(record))


def debug_log_path(option: Path | None, environ: dict[str, str] | None = None) -> Path | None:
    """The debug log's path: ``--debug-log``, else ``$INCIDENT_TUI_DEBUG_LOG``, else none.

    Args:
        option: The ``--debug-log`` value.
        environ: The environment (``os.environ`` when ``None``).

    Returns:
        The path, or ``None`` when no debug log was asked for.
    """
    if option is not None:
        return option
    value = (os.environ if environ is None else environ).get(DEBUG_LOG_ENV, "")
    return Path(value) if value else None


def configure_debug_log(path: Path, redactor: Redactor | None = None) -> logging.Handler:
    """Send all logging at DEBUG to ``path`` (appended, created 0600), redacted.

    Args:
        path: The log file.
        redactor: What to mask; built from :func:`known_secrets` when ``None``.

    Returns:
        The installed handler (remove and close it with :func:`remove_debug_log`).

    Raises:
        OSError: The file cannot be opened.
    """
    redactor = redactor or Redactor(known_secrets())
    path.parent.mkdir(parents=True, exist_ok=True)
    # Created private: even redacted, a debug log names hosts, incidents and repositories.
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600))
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setLevel(logging.DEBUG)
    handler.setFormatter(RedactingFormatter(redactor))
    root = logging.getLogger()
    handler.previous_level = root.level  # type: ignore[attr-defined]  # restored by remove_debug_log
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    logging.captureWarnings(True)
    logging.getLogger("incident_tui").debug("debug log started, pid %d, argv %s", os.getpid(), sys.argv)
    return handler


def startup_milestone(name: str) -> None:
    """Note in the debug log how long after the CLI began ``name`` was reached (``incident_tui.startup``).

    Costs nothing without ``--debug-log``; with it, a slow start on a jump host shows which step took
    the time (the PagerDuty read, building the sources, Textual, the first workload read).
    """
    logging.getLogger("incident_tui.startup").debug("%s after %.3f s", name, time.monotonic() - _STARTED)


def remove_debug_log(handler: logging.Handler) -> None:
    """Detach and close a handler from :func:`configure_debug_log`."""
    root = logging.getLogger()
    root.removeHandler(handler)
    root.setLevel(getattr(handler, "previous_level", root.level))
    logging.captureWarnings(False)
    handler.close()


def redacted_message(text: str) -> str:
    """``text`` with every currently known secret masked (for one-line CLI errors).

    Args:
        text: The message.

    Returns:
        The masked message.
    """
    return Redactor(known_secrets()).redact(text)


def report_unexpected(error: BaseException, command: str, stream: Any = None) -> int:
    """Print an unexpected error's traceback, redacted, and log it to the debug log if one is open.

    Args:
        error: The exception that reached the top of the CLI.
        command: The sub-command, for the heading line.
        stream: Where to print (stderr by default).

    Returns:
        Exit code 1, as Python's own uncaught-exception exit.
    """
    redactor = Redactor(known_secrets())
    text = "".join(traceback.format_exception(error))
    stream = stream or sys.stderr
    print(f"incident-tui {command}: unexpected error (a bug; please report it with this traceback)",
          file=stream)
    print(redactor.redact(text), end="", file=stream)
    logging.getLogger("incident_tui").error("unexpected error", exc_info=error)
    return 1


class RedactingStream:
    """A text stream that masks secrets in everything written through it, then passes it on."""

    def __init__(self, stream: Any, redactor: Redactor | None = None) -> None:
        """Wrap ``stream``.

        Args:
            stream: Where the text goes (e.g. ``sys.stderr``).
            redactor: What to mask; built from :func:`known_secrets` when ``None``.
        """
        self._stream = stream
        # Built at the first write when not given: reading the kubeconfig (and importing yaml)
        # would otherwise come before an app's first frame, for a stream that may never be used.
        self._redactor = redactor

    def write(self, text: str) -> int:
        """Write ``text`` with its secrets masked; returns the length of ``text`` (as if written whole)."""
        if self._redactor is None:
            self._redactor = Redactor(known_secrets())
        self._stream.write(self._redactor.redact(text))
        return len(text)

    def flush(self) -> None:
        """Flush the wrapped stream."""
        self._stream.flush()

    def isatty(self) -> bool:
        """Whether the wrapped stream is a terminal (so Rich keeps its colours and width)."""
        return bool(getattr(self._stream, "isatty", lambda: False)())

    def fileno(self) -> int:
        """The wrapped stream's descriptor (Rich asks it for the terminal size)."""
        return self._stream.fileno()


def redacting_error_console(stream: Any = None, **options: Any) -> Any:
    """A Rich console for Textual's ``App.error_console`` that masks secrets.

    Textual prints a crashed app's traceback with ``show_locals=True``: a frame's locals can hold
    request headers, hence a token. Handing the app this console masks them.

    Args:
        stream: Where to print (stderr by default).
        **options: More :class:`rich.console.Console` options (e.g. ``width`` in tests).

    Returns:
        The console.
    """
    from rich.console import Console

    return Console(file=RedactingStream(stream or sys.stderr), markup=False, highlight=False, **options)
