"""incident-tui's one typed configuration: TOML under the XDG config dir, secrets from the environment.

The file maps PagerDuty services to the Kubernetes workload and the repository behind them. Tokens
never live in it: ``PAGERDUTY_API_TOKEN`` and ``GITHUB_TOKEN`` come from the environment, and
Kubernetes credentials from ``KUBECONFIG``/``~/.kube/config``/in-cluster, as kubectl does.
A mistake in the file is reported once, naming the file, the line and the key.
"""

from __future__ import annotations

import json
import os
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CONFIG_ENV = "INCIDENT_TUI_CONFIG"
"""Environment variable that overrides the config path."""


class ConfigError(Exception):
    """The configuration is missing or wrong; ``str()`` names file, line and key."""

    def __init__(self, path: Path, message: str, *, line: int | None = None, key: str | None = None) -> None:
        """Create the error.

        Args:
            path: The config file.
            message: What is wrong and how to fix it.
            line: 1-based line of the offending key, when known.
            key: Dotted key, e.g. ``service[0].selector``.
        """
        where = f"{path}:{line}" if line else str(path)
        super().__init__(f"{where}: {key + ': ' if key else ''}{message}")
        self.path, self.line, self.key = path, line, key
        self.warnings: tuple[str, ...] = ()
        """Warnings found before the error (e.g. a readable file holding a secret): print them too."""


@dataclass(frozen=True)
class PagerDutyConfig:
    """``[pagerduty]``."""

    api_url: str = "https://api.pagerduty.com"
    """API base URL (``https://api.eu.pagerduty.com`` for EU accounts)."""
    from_email: str | None = None
    """``From`` header for writes; needed only with an account-level API key."""


@dataclass(frozen=True)
class KubernetesConfig:
    """``[kubernetes]``."""

    context: str | None = None
    """kubeconfig context; the current context when unset."""


@dataclass(frozen=True)
class GitHubConfig:
    """``[github]``."""

    api_url: str = "https://api.github.com"
    """API base URL (GitHub Enterprise: ``https://HOST/api/v3``)."""


@dataclass(frozen=True)
class PrometheusConfig:
    """``[prometheus]``: optional memory history from before the TUI started."""

    url: str
    """Prometheus base URL."""


@dataclass(frozen=True)
class ServiceMapping:
    """One ``[[service]]``: a PagerDuty service and the workload and code behind it."""

    pagerduty_service: str
    """PagerDuty service name or ID."""
    namespace: str
    """Kubernetes namespace of the workload."""
    selector: str
    """Label selector of its pods, e.g. ``app=worker-app``."""
    container: str
    """Container to watch."""
    repository: str
    """GitHub ``owner/name``."""
    branch: str = "main"
    """Branch deployments come from; fix PRs target it."""
    sources: tuple[str, ...] = ("*.c",)
    """Globs of the C sources built into the workload (what the analyzer reads)."""


@dataclass(frozen=True)
class Config:
    """The whole configuration."""

    path: Path
    """Where it was read from."""
    pagerduty: PagerDutyConfig = field(default_factory=PagerDutyConfig)
    """PagerDuty settings."""
    kubernetes: KubernetesConfig = field(default_factory=KubernetesConfig)
    """Kubernetes settings."""
    github: GitHubConfig = field(default_factory=GitHubConfig)
    """GitHub settings."""
    prometheus: PrometheusConfig | None = None
    """Prometheus settings, when configured."""
    services: tuple[ServiceMapping, ...] = ()
    """Mapped services."""
    warnings: tuple[str, ...] = ()
    """Problems that do not stop the tool (a group- or world-readable file holding a secret);
    ``live`` and ``report`` print them on stderr, ``check`` shows them as WARN rows."""

    def service_for(self, pagerduty_service: str) -> ServiceMapping | None:
        """The mapping of a PagerDuty service, by name or ID."""
        for service in self.services:
            if service.pagerduty_service == pagerduty_service:
                return service
        return None


def default_config_path() -> Path:
    """``$INCIDENT_TUI_CONFIG``, else ``$XDG_CONFIG_HOME/incident-tui/config.toml``."""
    if os.environ.get(CONFIG_ENV):
        return Path(os.environ[CONFIG_ENV])
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "incident-tui" / "config.toml"


_SECTIONS: dict[str, tuple[type, set[str], set[str]]] = {
    "pagerduty": (PagerDutyConfig, set(), {"api_url", "from_email"}),
    "kubernetes": (KubernetesConfig, set(), {"context"}),
    "github": (GitHubConfig, set(), {"api_url"}),
    "prometheus": (PrometheusConfig, {"url"}, {"url"}),
}
"""Table name -> (type, required keys, allowed keys)."""

_SERVICE_REQUIRED = {"pagerduty_service", "namespace", "selector", "container", "repository"}
_SERVICE_ALLOWED = _SERVICE_REQUIRED | {"branch", "sources"}
_SECRET_KEYS = re.compile(r"token|secret|passw|api[_-]?key|(?:^|[_-])key(?:$|[_-])|credential", re.IGNORECASE)
"""Key names that say they hold a secret."""
_TOKEN_PREFIXES = re.compile(r"^(?:gh[pousr]_|github_pat_|glpat-|xox[abprs]-|sk-|AKIA|pdtok)")
"""Prefixes of well-known token formats (GitHub, GitLab, Slack, OpenAI-style, AWS access keys)."""
_TOKEN_SHAPE = re.compile(r"^[A-Za-z0-9_+/=-]{20,}$")
"""What a generated key looks like: long, no spaces, no dots (unlike hosts, paths and selectors)."""
_KEY_IN_TEXT = re.compile(r"""([A-Za-z0-9_-]+|"[^"\n]*"|'[^'\n]*')\s*=(?!=)""")
"""A bare or quoted key before ``=`` (in a line or an inline table)."""
_STRING_IN_TEXT = re.compile(r""""((?:[^"\\\n]|\\.)*)"|'([^'\n]*)'""")
"""A basic or literal one-line string."""
_URL_PASSWORD = re.compile(r"^[a-z][a-z0-9+.-]*://[^/@\s]*:[^/@\s]+@", re.IGNORECASE)
"""``scheme://user:password@host``."""


def permission_warnings(path: Path, text: str) -> tuple[str, ...]:
    """A warning when the file is readable by group or others and holds something secret-like.

    The text is scanned as text, not as parsed TOML, so a file with a syntax error is still checked.
    Secret-like is a key named like a credential (token, secret, password, api_key, key), a value in
    a known token format or shaped like a generated key, a URL with a password, or the value of
    ``PAGERDUTY_API_TOKEN``/``GITHUB_TOKEN``.

    Args:
        path: The config file.
        text: Its contents.

    Returns:
        Nothing, or one warning naming the file, its mode and ``chmod 600 <file>``.
    """
    try:
        mode = path.stat().st_mode & 0o777
    except OSError:
        return ()
    if not mode & 0o044:
        return ()
    found = _secret_like(text)
    if found is None:
        return ()
    readers = " and ".join(who for who, bit in (("its group", 0o040), ("other users", 0o004)) if mode & bit)
    warning = (f"{path} holds {found} and is readable by {readers} (mode {mode:04o}): run chmod 600 {path} "
               "and keep tokens in the environment (PAGERDUTY_API_TOKEN, GITHUB_TOKEN)")
    return (warning,)


def _secret_like(text: str) -> str | None:
    """Describe the first secret-like thing in the config text (never quoting a value), or ``None``."""
    environment = {os.environ.get(name, "").strip() for name in ("PAGERDUTY_API_TOKEN", "GITHUB_TOKEN")} - {""}
    for number, line in enumerate(text.splitlines(), start=1):
        for key in _KEY_IN_TEXT.findall(line):
            name = key.strip("\"'")
            if _SECRET_KEYS.search(name):
                return f"a key named {name!r} (line {number})"
        for double, single in _STRING_IN_TEXT.findall(line):
            value = double or single
            if value in environment or _TOKEN_PREFIXES.match(value) or _looks_generated(value):
                return f"a value that looks like a token (line {number})"
            if _URL_PASSWORD.match(value):
                return f"a URL with a password (line {number})"
    return None


def _looks_generated(value: str) -> bool:
    """Long, unspaced, mixing upper case, lower case and digits: the shape of an API key.

    Names built from words (a GKE context ``gke_my-project_us-central1-a_Prod1``) have several
    ``_``/``-`` separators; generated keys have at most one (``y_NbAkKc66ryYTWUXYEu``).
    """
    return (bool(_TOKEN_SHAPE.match(value)) and sum(value.count(c) for c in "_-") <= 1
            and any(c.isdigit() for c in value) and any(c.islower() for c in value)
            and any(c.isupper() for c in value))


def load_config(path: Path | None = None) -> Config:
    """Read and check the configuration.

    Args:
        path: The file; :func:`default_config_path` when ``None``.

    Returns:
        The typed configuration.

    Raises:
        ConfigError: The file is missing, not TOML, or has a wrong, unknown or missing key.
    """
    path = path or default_config_path()
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(path, "no config file; create one (see the README's Configuration section) or pass --config") from None
    except UnicodeDecodeError as error:
        raise ConfigError(path, f"cannot read: not UTF-8 text ({error.reason} at byte {error.start})") from None
    except OSError as error:
        raise ConfigError(path, f"cannot read: {error.strerror or error}") from None
    warnings = permission_warnings(path, text)
    try:
        return _parse(path, text, warnings)
    except ConfigError as error:
        error.warnings = warnings
        raise


def _parse(path: Path, text: str, warnings: tuple[str, ...]) -> Config:
    """Parse and check the text of the config file (see :func:`load_config`)."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        line = getattr(error, "lineno", None) or _line_from_message(str(error))
        raise ConfigError(path, f"not valid TOML: {error}", line=line) from None
    except RecursionError:  # tomllib recurses once per nesting level of arrays and inline tables
        raise ConfigError(path, "not valid TOML: arrays or inline tables nested too deeply") from None
    locate = _KeyLocator(path, text)
    for key in data:
        if key not in _SECTIONS and key != "service":
            locate.fail([key], f"unknown table or key (known: {', '.join(sorted([*_SECTIONS, 'service']))})")
    sections: dict[str, Any] = {}
    for name, (kind, required, allowed) in _SECTIONS.items():
        if name in data:
            sections[name] = kind(**_checked_table(locate, [name], data[name], required, allowed))
    raw_services = data.get("service", [])
    if not isinstance(raw_services, list):
        locate.fail(["service"], "must be an array of tables: write [[service]]")
    services = tuple(_service(locate, index, raw) for index, raw in enumerate(raw_services))
    return Config(path=path, services=services, warnings=warnings, **sections)


def _service(locate: _KeyLocator, index: int, raw: Any) -> ServiceMapping:
    """Check one ``[[service]]`` table."""
    values = _checked_table(locate, ["service", index], raw, _SERVICE_REQUIRED, _SERVICE_ALLOWED)
    if "sources" in values:
        sources = values["sources"]
        if not isinstance(sources, list) or not sources or not all(isinstance(s, str) and s for s in sources):
            locate.fail(["service", index, "sources"], "must be a non-empty list of glob strings, e.g. [\"*.c\"]")
        values["sources"] = tuple(sources)
    if "=" not in values["selector"]:
        locate.fail(["service", index, "selector"], "must be a label selector such as \"app=worker-app\"")
    if values["repository"].count("/") != 1:
        locate.fail(["service", index, "repository"], "must be owner/name, e.g. \"PagerDuty/ads-demo-service\"")
    return ServiceMapping(**values)


def _checked_table(locate: _KeyLocator, where: list[str | int], raw: Any, required: set[str], allowed: set[str]) -> dict[str, Any]:
    """Check a table's keys and that every value is a string (lists are checked by the caller)."""
    if not isinstance(raw, dict):
        locate.fail(where, "must be a table")
    for key, value in raw.items():
        if key not in allowed:
            hint = " (secrets come from the environment, never the file)" if _SECRET_KEYS.search(key) else ""
            locate.fail([*where, key], f"unknown key; allowed: {', '.join(sorted(allowed))}{hint}")
        if key != "sources" and not isinstance(value, str):
            locate.fail([*where, key], f"must be a string, not {type(value).__name__}")
    for key in sorted(required - raw.keys()):
        locate.fail(where, f"missing required key {key!r}")
    return dict(raw)


def _line_from_message(message: str) -> int | None:
    """Python < 3.13 puts the line only into the message: ``(at line 3, column 5)``."""
    match = re.search(r"line (\d+)", message)
    return int(match.group(1)) if match else None


class _KeyLocator:
    """Finds the line a key is on, so errors can point at it (tomllib keeps no positions)."""

    _NAME = r"""(?:[A-Za-z0-9_-]+|"(?:[^"\\\n]|\\.)*"|'[^'\n]*')"""
    _HEADER = re.compile(rf"^\s*(\[\[?)\s*({_NAME}(?:\s*\.\s*{_NAME})*)\s*\]\]?")
    _KEY = re.compile(rf"^\s*({_NAME})\s*=")

    def __init__(self, path: Path, text: str) -> None:
        self._path = path
        self._lines = text.splitlines()

    def fail(self, where: list[str | int], message: str) -> None:
        """Raise :class:`ConfigError` for the key at ``where`` (e.g. ``["service", 0, "selector"]``)."""
        raise ConfigError(self._path, message, line=self._line_of(where), key=_dotted(where))

    def _line_of(self, where: list[str | int]) -> int | None:
        table = [part for part in where if isinstance(part, str)]
        index = next((part for part in where if isinstance(part, int)), None)
        table_name, key = (table[0], table[1] if len(table) > 1 else None) if table else (None, None)
        current, seen, header_line = None, -1, None
        for number, text in enumerate(self._lines, start=1):
            header = self._HEADER.match(text)
            if header:
                current = _key_name(header.group(2))
                if current == table_name:
                    seen += 1
                    if index is None or seen == index:
                        header_line = number
                continue
            found = self._KEY.match(text)
            in_table = current == table_name and (index is None or seen == index)
            name = _key_name(found.group(1)) if found else None
            if found and in_table and name == key:
                return number
            if found and current is None and table_name is not None and key is None and name == table_name:
                return number
        return header_line


def _key_name(written: str) -> str:
    """A key as TOML reads it: ``"a\\tb"`` -> ``a<TAB>b``; a dotted header stays dotted (``a.b``)."""
    if written[:1] not in "\"'":
        return re.sub(r"\s*\.\s*", ".", written)
    try:
        return next(iter(tomllib.loads(f"{written} = 0")))
    except (tomllib.TOMLDecodeError, StopIteration):
        return written


def _dotted(where: list[str | int]) -> str:
    """``["service", 0, "selector"]`` -> ``service[0].selector``; odd keys are quoted, as in TOML."""
    text = ""
    for part in where:
        if isinstance(part, str) and not re.fullmatch(r"[A-Za-z0-9_-]+", part):
            part = json.dumps(part)  # one line, whatever the key holds (a TOML basic string)
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text
