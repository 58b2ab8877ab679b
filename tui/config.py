"""incident-tui's one typed configuration: TOML under the XDG config dir, secrets from the environment.

The file maps PagerDuty services to the Kubernetes workload and the repository behind them. Tokens
never live in it: ``PAGERDUTY_API_TOKEN`` and ``GITHUB_TOKEN`` come from the environment, and
Kubernetes credentials from ``KUBECONFIG``/``~/.kube/config``/in-cluster, as kubectl does.
A mistake in the file is reported once, naming the file, the line and the key.
"""

from __future__ import annotations

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
_SECRET_KEYS = re.compile(r"token|secret|password|api_key", re.IGNORECASE)


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
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(path, f"cannot read: {error}") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        line = getattr(error, "lineno", None) or _line_from_message(str(error))
        raise ConfigError(path, f"not valid TOML: {error}", line=line) from None
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
    return Config(path=path, services=services, **sections)


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

    _HEADER = re.compile(r"^\s*(\[\[?)\s*([A-Za-z0-9_.-]+)\s*\]\]?")
    _KEY = re.compile(r"^\s*([A-Za-z0-9_-]+)\s*=")

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
                current = header.group(2)
                if current == table_name:
                    seen += 1
                    if index is None or seen == index:
                        header_line = number
                continue
            found = self._KEY.match(text)
            in_table = current == table_name and (index is None or seen == index)
            if found and in_table and found.group(1) == key:
                return number
            if found and current is None and table_name is not None and key is None and found.group(1) == table_name:
                return number
        return header_line


def _dotted(where: list[str | int]) -> str:
    """``["service", 0, "selector"]`` -> ``service[0].selector``."""
    text = ""
    for part in where:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text
