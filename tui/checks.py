"""``incident-tui check``: is every configured upstream reachable, does it accept our credentials, may we read?

The result model is plain frozen data: an :class:`UpstreamReport` per upstream holding :class:`Check`
rows, each ``ok``, ``WARN``, ``FAIL`` (with the reason and what to do) or ``n/a``. The check functions
here talk to PagerDuty, GitHub and Prometheus over ``httpx``; Kubernetes lives in
:mod:`tui.checks_kubernetes`. No message ever contains a token: tokens only travel in request headers,
and failures are reported by status code and the API's own error text.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from urllib.parse import quote, urlsplit

import httpx

from tui.config import Config, ServiceMapping
from tui.sources.base import SourceError

PROBE_TIMEOUT = 10.0
"""Seconds each probe may take."""
METRIC_LOOKBACK = timedelta(hours=24)
"""How far back the Prometheus memory metric must have at least one series."""
MEMORY_METRIC = "container_memory_working_set_bytes"
"""cAdvisor's working set: what the memory history is drawn from."""


class Verdict(StrEnum):
    """The outcome of one check."""

    OK = "ok"
    WARN = "WARN"
    FAIL = "FAIL"
    NA = "n/a"


@dataclass(frozen=True)
class Check:
    """One row of the report: a named check, its verdict and what it found or what to do."""

    name: str
    """``reachable``, ``authenticated``, ``permitted`` or a detail (``key type``, ``pod``...)."""
    verdict: Verdict
    """The outcome."""
    detail: str = ""
    """What was found (ok, n/a), or the reason and the fix (FAIL, WARN)."""

    def render(self) -> str:
        """The row as printed: ``  name           ok (detail)`` or ``  name           FAIL: detail``."""
        if self.verdict in (Verdict.FAIL, Verdict.WARN):
            text = f"{self.verdict}: {self.detail}"
        else:
            text = f"{self.verdict} ({self.detail})" if self.detail else str(self.verdict)
        return f"  {self.name:<14} {text}"


@dataclass(frozen=True)
class UpstreamReport:
    """Every check of one upstream (PagerDuty, one Kubernetes namespace, one repository, Prometheus)."""

    title: str
    """Heading line, naming the upstream and where it is (never a credential)."""
    checks: tuple[Check, ...]
    """The rows, in the order they were checked."""

    @property
    def failed(self) -> bool:
        """Whether any row failed."""
        return any(check.verdict is Verdict.FAIL for check in self.checks)

    def lines(self) -> list[str]:
        """The heading and the rows."""
        return [self.title, *(check.render() for check in self.checks)]


def ok(name: str, detail: str = "") -> Check:
    """An ``ok`` row."""
    return Check(name, Verdict.OK, detail)


def fail(name: str, detail: str) -> Check:
    """A ``FAIL`` row; ``detail`` says why and what to do."""
    return Check(name, Verdict.FAIL, detail)


def warn(name: str, detail: str) -> Check:
    """A ``WARN`` row: worth fixing, but the dashboard still works."""
    return Check(name, Verdict.WARN, detail)


def not_checked(names: Iterable[str], because: str) -> tuple[Check, ...]:
    """``n/a`` rows for the checks an earlier failure made pointless."""
    return tuple(Check(name, Verdict.NA, f"not checked: {because}") for name in names)


def exit_code(reports: Sequence[UpstreamReport]) -> int:
    """0 when nothing failed, else 1."""
    return 1 if any(report.failed for report in reports) else 0


def summary(reports: Sequence[UpstreamReport]) -> str:
    """The last line printed: all passed, or how many rows failed."""
    failures = sum(check.verdict is Verdict.FAIL for report in reports for check in report.checks)
    return "all checks passed" if not failures else f"{failures} check{'s' if failures > 1 else ''} failed"


async def run_checks(config: Config) -> list[UpstreamReport]:
    """Check every configured upstream concurrently.

    Args:
        config: The configuration; tokens come from the environment.

    Returns:
        The config file's own report when it has warnings (a readable file holding a secret), then
        PagerDuty, Kubernetes per service, GitHub per repository, Prometheus when configured.
    """
    file_rows = tuple(warn("permissions", warning) for warning in config.warnings)
    if not config.services:
        return [UpstreamReport(f"Config ({config.path})", (*file_rows,
            fail("services", "no [[service]] is mapped: add one (see the README's Configuration section)")))]
    upstreams = await _check_upstreams(config)
    return [UpstreamReport(f"Config ({config.path})", file_rows), *upstreams] if file_rows else upstreams


async def _check_upstreams(config: Config) -> list[UpstreamReport]:
    """Every upstream's report, checked concurrently (see :func:`run_checks`)."""
    from tui.checks_kubernetes import check_kubernetes

    repositories = {(s.repository, s.branch): s for s in config.services}
    async with httpx.AsyncClient(timeout=PROBE_TIMEOUT) as client:
        jobs = [check_pagerduty(config, client=client)]
        jobs += [asyncio.to_thread(check_kubernetes, config, service) for service in config.services]
        jobs += [check_github(config, service, client=client) for service in repositories.values()]
        if config.prometheus is not None:
            jobs.append(check_prometheus(config, client=client))
        return list(await asyncio.gather(*jobs))


def shown_url(url: str) -> str:
    """``url`` as printed: a password in it (``https://user:pass@host``) becomes ``***``."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = f"{parts.username}:***@{parts.netloc.rsplit('@', 1)[1]}"
    return parts._replace(netloc=netloc).geturl()


def _host(url: str) -> str:
    """``host[:port]`` of ``url`` for messages, without any user name or password."""
    netloc = urlsplit(url).netloc.rsplit("@", 1)[-1]
    return netloc or shown_url(url)


async def _reachable(client: httpx.AsyncClient, url: str, what: str, setting: str) -> Check:
    """``reachable`` is ok on any HTTP answer (401 and 404 included) from ``url``, sent without credentials."""
    host = _host(url)
    try:
        response = await client.get(url)
    except httpx.TimeoutException:
        return fail("reachable", f"{what} at {host} did not answer within {PROBE_TIMEOUT:g}s: check {setting} and the network")
    except httpx.HTTPError as error:
        return fail("reachable", f"cannot reach {what} at {host} ({type(error).__name__}): check {setting} and the network")
    return ok("reachable", f"{host} answered HTTP {response.status_code}")


# -- PagerDuty ---------------------------------------------------------------------------------


async def check_pagerduty(config: Config, *, client: httpx.AsyncClient) -> UpstreamReport:
    """Reachable, the key accepted, its kind and the ``From`` rule, and each mapped service's incidents.

    Args:
        config: The configuration (``[pagerduty]`` and the mapped services).
        client: The HTTP client to share.

    Returns:
        The report; a missing or rejected ``PAGERDUTY_API_TOKEN`` is an ``authenticated`` FAIL.
    """
    from tui.live import mapped_service_names
    from tui.sources.pagerduty import from_environment

    settings = config.pagerduty
    title = f"PagerDuty ({shown_url(settings.api_url)})"
    reach = await _reachable(client, f"{settings.api_url.rstrip('/')}/abilities", "PagerDuty", "[pagerduty] api_url")
    later = ("key type", "from", "permitted")
    if reach.verdict is Verdict.FAIL:
        return UpstreamReport(title, (reach, *not_checked(("authenticated", *later), "PagerDuty is unreachable")))
    try:
        kind = await from_environment(settings, client=client).token_kind()
    except SourceError as error:  # a missing token, or 401 "check PAGERDUTY_API_TOKEN"
        return UpstreamReport(title, (reach, fail("authenticated", str(error)),
                                      *not_checked(later, "the API key was not accepted")))
    rows = [reach, ok("authenticated", "GET /users/me answered"), ok("key type", f"{kind}-level API key"),
            _from_check(kind, settings.from_email, config)]
    for name in mapped_service_names(config):
        rows.append(await _pagerduty_service_check(config, name, client))
    return UpstreamReport(title, tuple(rows))


def _from_check(kind: str, from_email: str | None, config: Config) -> Check:
    """Writes with an account-level key need ``From``: is ``[pagerduty] from_email`` set?"""
    if kind == "user":
        return ok("from", "not needed: a user key writes as its user")
    if from_email:
        return ok("from", f"needed by an account key; writes send From: {from_email}")
    return fail("from", "an account-level key needs a From header to acknowledge or add notes, and "
                f"[pagerduty] from_email is not set: add from_email = \"you@example.com\" (a user of the "
                f"account) under [pagerduty] in {config.path}, or use a user API key")


async def _pagerduty_service_check(config: Config, name: str, client: httpx.AsyncClient) -> Check:
    """``permitted`` for one mapped service: its name resolves to an ID and its incidents can be listed."""
    from tui.sources.pagerduty import from_environment

    source = from_environment(config.pagerduty, (name,), client=client)
    try:
        ids = await source.service_ids()
        incidents = await source.open_incidents()
    except SourceError as error:
        return fail("permitted", f"{name}: {error}")
    return ok("permitted", f"lists incidents of {name} ({', '.join(ids)}): {len(incidents)} open")


# -- GitHub ------------------------------------------------------------------------------------


async def check_github(config: Config, service: ServiceMapping, *, client: httpx.AsyncClient) -> UpstreamReport:
    """Reachable, the token accepted and its scopes, the repository readable, its default branch.

    Args:
        config: The configuration (``[github]``).
        service: The mapping naming the repository and branch.
        client: The HTTP client to share.

    Returns:
        The report; a missing or rejected ``GITHUB_TOKEN`` is an ``authenticated`` FAIL.
    """
    from tui.sources.github import TOKEN_ENV

    api = config.github.api_url.rstrip("/")
    title = f"GitHub {service.repository} ({shown_url(api)})"
    later = ("scopes", "permitted", "branch")
    reach = await _reachable(client, f"{api}/rate_limit", "GitHub", "[github] api_url")
    if reach.verdict is Verdict.FAIL:
        return UpstreamReport(title, (reach, *not_checked(("authenticated", *later), "GitHub is unreachable")))
    token = os.environ.get(TOKEN_ENV, "").strip()
    if not token:
        return UpstreamReport(title, (reach, fail("authenticated", f"{TOKEN_ENV} is not set: export a token that "
                                                  f"can read {service.repository}"), *not_checked(later, "no token")))
    headers = {"Authorization": f"token {token}", "Accept": "application/vnd.github+json"}
    owner, name = service.repository.split("/")
    try:
        user = await client.get(f"{api}/user", headers=headers)
        repo = await client.get(f"{api}/repos/{quote(owner, safe='')}/{quote(name, safe='')}", headers=headers)
    except httpx.HTTPError as error:
        return UpstreamReport(title, (reach, fail("authenticated", f"GitHub stopped answering ({type(error).__name__}): "
                                                  "retry, or check the network"), *not_checked(later, "no answer")))
    if 401 in (user.status_code, repo.status_code):
        return UpstreamReport(title, (reach, fail("authenticated", f"GitHub rejected the token (401): check {TOKEN_ENV}"),
                                      *not_checked(later, "the token was not accepted")))
    login = _json_field(user, "login") if user.status_code == 200 else None
    rows = [reach, ok("authenticated", f"as {login}" if login else "token accepted")]
    scopes = user.headers.get("x-oauth-scopes", repo.headers.get("x-oauth-scopes"))
    if repo.status_code != 200:
        if repo.status_code == 404:
            reason = (f"{service.repository} not found, or {TOKEN_ENV} cannot read it (404): check [[service]] "
                      "repository and the token's repository access")
        else:
            reason = f"GitHub answered {repo.status_code} to GET /repos/{service.repository}: {_message(repo)}"
        rows += [_scopes_check(scopes, private=None), fail("permitted", reason),
                 *not_checked(("branch",), "the repository is not readable")]
        return UpstreamReport(title, tuple(rows))
    private = bool(_json_field(repo, "private"))
    rows += [_scopes_check(scopes, private=private),
             ok("permitted", f"{service.repository} is readable ({'private' if private else 'public'})"),
             _branch_check(_json_field(repo, "default_branch"), service)]
    return UpstreamReport(title, tuple(rows))


def _scopes_check(header: str | None, *, private: bool | None) -> Check:
    """Classic tokens list their scopes in ``X-OAuth-Scopes``: fix PRs need ``repo`` (``public_repo`` if public)."""
    if header is None:
        return Check("scopes", Verdict.NA, "no X-OAuth-Scopes header (fine-grained token or app): it needs Contents "
                                           "and Pull requests read and write on the repository to open fix PRs")
    scopes = {scope.strip() for scope in header.split(",") if scope.strip()}
    shown = ", ".join(sorted(scopes)) or "none"
    if "repo" in scopes or ("public_repo" in scopes and private is False):
        return ok("scopes", shown)
    need = "repo" if private is not False else "repo or public_repo"
    return fail("scopes", f"the token has scopes [{shown}]; reading and opening fix PRs needs {need}: "
                          "create a token with that scope")


def _branch_check(default_branch: object, service: ServiceMapping) -> Check:
    """The config's ``branch`` should be the repository's default branch (a WARN when it is not)."""
    if default_branch == service.branch:
        return ok("branch", f"default branch is {service.branch}")
    return warn("branch", f"the default branch is {default_branch!r} but [[service]] branch = {service.branch!r}: "
                          "commits are read from and fix PRs target the configured branch; change it if that is wrong")


def _json_field(response: httpx.Response, key: str) -> object:
    """One field of a JSON object answer, ``None`` when absent or not JSON."""
    try:
        data = response.json()
    except ValueError:
        return None
    return data.get(key) if isinstance(data, dict) else None


def _message(response: httpx.Response) -> str:
    """The API's error message, else the reason phrase."""
    message = _json_field(response, "message")
    return str(message) if message else response.reason_phrase


# -- Prometheus --------------------------------------------------------------------------------


async def check_prometheus(config: Config, *, client: httpx.AsyncClient, now: datetime | None = None) -> UpstreamReport:
    """Prometheus is ready, and the memory metric has series for each mapped namespace.

    Args:
        config: The configuration; ``[prometheus]`` must be set.
        client: The HTTP client to share.
        now: The end of the lookback window (tests); the current time when ``None``.

    Returns:
        The report: ``reachable`` from ``/-/ready``, then one ``metric`` row per namespace.
    """
    assert config.prometheus is not None
    url = config.prometheus.url.rstrip("/")
    title = f"Prometheus ({shown_url(url)})"
    namespaces = list(dict.fromkeys(service.namespace for service in config.services))
    reach = await _reachable(client, f"{url}/-/ready", "Prometheus", "[prometheus] url")
    if reach.verdict is Verdict.FAIL:
        return UpstreamReport(title, (reach, *not_checked(["metric"] * len(namespaces), "Prometheus is unreachable")))
    end = now or datetime.now(UTC)
    rows = [reach]
    for namespace in namespaces:
        rows.append(await _metric_check(client, url, namespace, end))
    return UpstreamReport(title, tuple(rows))


async def _metric_check(client: httpx.AsyncClient, url: str, namespace: str, end: datetime) -> Check:
    """``metric``: at least one working-set series for the namespace within :data:`METRIC_LOOKBACK`."""
    from tui.sources.prometheus import promql_string

    match = f"{MEMORY_METRIC}{{namespace={promql_string(namespace)},container!=\"\"}}"
    params = {"match[]": match, "start": f"{(end - METRIC_LOOKBACK).timestamp():.3f}", "end": f"{end.timestamp():.3f}"}
    try:
        response = await client.get(f"{url}/api/v1/series", params=params)
    except httpx.HTTPError as error:
        return fail("metric", f"Prometheus stopped answering ({type(error).__name__}): retry, or check [prometheus] url")
    series = _json_field(response, "data")
    if response.status_code != 200 or not isinstance(series, list):
        return fail("metric", f"Prometheus answered {response.status_code} to a series query: {_json_field(response, 'error')}")
    hours = METRIC_LOOKBACK / timedelta(hours=1)
    if not series:
        return fail("metric", f"no {MEMORY_METRIC} for namespace {namespace} in the last {hours:g} h: Prometheus "
                              "must scrape cAdvisor (the kubelet's /metrics/cadvisor) for the memory history")
    return ok("metric", f"{MEMORY_METRIC}: {len(series)} series in namespace {namespace} in the last {hours:g} h")
