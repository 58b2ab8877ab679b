"""Live mode: the dashboard's sources built from the config, for PagerDuty, Kubernetes and GitHub.

:func:`build_live_sources` picks the ``[[service]]`` mapping of the incident's PagerDuty service and
builds the three live sources behind it; :func:`pick_incident` finds the incident to open. The
``live`` and ``report`` commands use both, and :func:`investigate_and_report` is the headless
report on the same coroutines the dashboard's keys use. Nothing here imports Textual.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from analysis.model import Incident
from tui.config import Config, ServiceMapping
from tui.session import SourceSet
from tui.sources.base import SourceError

if TYPE_CHECKING:
    # Only a return annotation here: importing it would load the C analysis (pycparser) before
    # the first frame; investigate_and_report imports it when a report is made.
    from tui.investigation import Investigation


def service_mapping(config: Config, incident_service: str | None, service_id: str | None = None) -> ServiceMapping:
    """The ``[[service]]`` mapping of a PagerDuty service.

    Args:
        config: The configuration.
        incident_service: The incident's PagerDuty service, by name or ID (an exact match first,
            then a case-insensitive one, as PagerDuty names are); ``None`` takes the only mapping.
        service_id: The incident's service ID, for mappings written with the ID instead of the name.

    Returns:
        The mapping.

    Raises:
        SourceError: No service is mapped, the service is not mapped, or ``None`` is ambiguous.
    """
    if not config.services:
        raise SourceError(f"{config.path}: no [[service]] is mapped; add one (see the README's Configuration section)")
    if incident_service is None:
        if len(config.services) == 1:
            return config.services[0]
        raise SourceError(f"{config.path} maps {len(config.services)} services: pass --incident to choose one")
    mapping = config.service_for(incident_service)
    if mapping is None and service_id is not None:
        mapping = config.service_for(service_id)
    if mapping is None:
        wanted = incident_service.casefold()
        mapping = next((s for s in config.services if s.pagerduty_service.casefold() == wanted), None)
    if mapping is None:
        known = ", ".join(s.pagerduty_service for s in config.services)
        raise SourceError(
            f"PagerDuty service {incident_service!r} is not mapped in {config.path} (mapped: {known}): "
            "add a [[service]] with its pagerduty_service")
    return mapping


def mapped_service_names(config: Config) -> tuple[str, ...]:
    """Every mapped PagerDuty service name or ID, in config order, without duplicates."""
    return tuple(dict.fromkeys(service.pagerduty_service for service in config.services))


def pagerduty_source(config: Config) -> Any:
    """The PagerDuty source of every mapped service, with the token from the environment.

    Raises:
        SourceError: ``PAGERDUTY_API_TOKEN`` is not set, or no service is mapped.
    """
    from tui.sources.pagerduty import from_environment

    if not config.services:
        raise SourceError(f"{config.path}: no [[service]] is mapped; add one (see the README's Configuration section)")
    return from_environment(config.pagerduty, mapped_service_names(config))


def build_live_sources(
    config: Config,
    *,
    incident_service: str | None,
    read_only: bool,
    state_dir: Path,
    api_client: Any = None,
    github_options: Mapping[str, Any] | None = None,
    pagerduty: Any = None,
    service_id: str | None = None,
    workload_process: Any = None,
) -> SourceSet:
    """The live source set for the incident's service.

    No request is made here; the sources connect on their first read.

    Args:
        config: The configuration.
        incident_service: The incident's PagerDuty service (name or ID); ``None`` for the only mapping.
        read_only: Refuse every write.
        state_dir: Where reports go.
        api_client: A ready ``kubernetes.client.ApiClient`` to read in this process (tests); else
            the reads are made by a child process (:mod:`tui.sources.kubernetes_process`).
        github_options: Extra :class:`~tui.sources.github.GitHubCodeSource` options (throttling).
        pagerduty: An already built PagerDuty source to reuse (e.g. the one that picked the
            incident); one is built from the environment when ``None``.
        service_id: The incident's service ID, for mappings that name the service by ID.
        workload_process: A :class:`~tui.sources.kubernetes_process.KubernetesProcessSource`
            started earlier (its client is imported by now); one is started when ``None``.

    Returns:
        The sources, ``mode="live"``, reading the mapping's C sources.

    Raises:
        SourceError: The service is not mapped or a token is missing (or, reading in this process,
            there are no Kubernetes credentials; the reader process says so at its first read).
    """
    from tui.sources.github import from_environment as github_from_environment

    mapping = service_mapping(config, incident_service, service_id)
    # The GitHub source holds nothing to close, so it is built first: a missing token then leaks nothing.
    code = github_from_environment(config.github, mapping, **dict(github_options or {}))
    incidents = pagerduty if pagerduty is not None else pagerduty_source(config)
    try:
        if api_client is not None:
            from tui.sources.kubernetes import KubernetesWorkloadSource

            workload: Any = KubernetesWorkloadSource(mapping, context=config.kubernetes.context, api_client=api_client)
        else:
            from tui.sources.kubernetes_process import KubernetesProcessSource

            workload = workload_process or KubernetesProcessSource()
            workload.bind(mapping, context=config.kubernetes.context)
    except BaseException:
        if pagerduty is None:
            _close_soon(incidents)
        raise
    return SourceSet(
        incidents=incidents,
        workload=workload,
        code=code,
        state_dir=state_dir,
        mode="live",
        read_only=read_only,
        build_globs=tuple(mapping.sources),
        history=_history_source(config),
    )


def _history_source(config: Config) -> Any:
    """Prometheus memory history when ``[prometheus]`` is configured, else ``None``."""
    if config.prometheus is None:
        return None
    from tui.sources.prometheus import PrometheusHistory, WorkloadMemoryHistory

    return WorkloadMemoryHistory(PrometheusHistory(config.prometheus.url))


def _close_soon(pagerduty: Any) -> None:
    """Close a PagerDuty source from synchronous code (on the running loop when there is one)."""
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        asyncio.run(pagerduty.aclose())
        return
    loop.create_task(pagerduty.aclose())


async def pick_incident(
    pagerduty: Any,
    incident_id: str | None,
    choose: Callable[[list[Incident]], Awaitable[str | None]] | None = None,
) -> Incident:
    """The incident to open: the given one, else the one ``choose`` picks, else the newest open one.

    Args:
        pagerduty: The PagerDuty source (its services are the mapped ones).
        incident_id: An incident ID, or ``None`` to pick among the open ones.
        choose: Asked when several incidents are open (the interactive picker); returns an ID,
            or ``None`` when the user quit.

    Returns:
        The incident.

    Raises:
        NotFoundError: No incident has that ID.
        SourceError: There is no open incident, or PagerDuty failed.
    """
    if incident_id is not None:
        return await pagerduty.incident(incident_id)
    open_incidents = await pagerduty.open_incidents()
    if not open_incidents:
        services = ", ".join(getattr(pagerduty, "services", ())) or "the mapped services"
        raise SourceError(f"no open incidents for {services}")
    if choose is not None and len(open_incidents) > 1:
        chosen = await choose(open_incidents)
        if chosen is None:
            raise PickerCancelled("no incident chosen")
        return next(incident for incident in open_incidents if incident.id == chosen)
    return open_incidents[0]


class PickerCancelled(SourceError):
    """The user quit the incident picker."""


async def close_sources(sources: SourceSet) -> None:
    """Close the live sources: stop the Kubernetes watch, close PagerDuty's HTTP client."""
    close = getattr(sources.workload, "close", None)
    try:
        if close is not None:
            await asyncio.to_thread(close)
    finally:
        for closable in (sources.incidents, sources.history):
            aclose = getattr(closable, "aclose", None)
            if aclose is not None:
                await aclose()


async def investigate_and_report(sources: SourceSet, incident: Incident) -> tuple[Investigation, str, dict, Path]:
    """The headless report, as the demo's headless mode makes it.

    Runs the investigation in a thread, anchored on the first OOM kill the workload reports (the
    incident's creation when it reports none), then :func:`tui.operations.generate_report`.

    Returns:
        The investigation, the Markdown, the JSON summary and the path the report was saved to.
    """
    from tui import operations
    from tui.investigation import investigate

    kills = await asyncio.to_thread(sources.workload.oom_kills)
    anchor = kills[0].at if kills else incident.created_at
    deployments = await asyncio.to_thread(sources.workload.deployments)
    investigation = await asyncio.to_thread(
        investigate,
        sources.code,
        first_oom=anchor,
        deployments=deployments,
        build_globs=sources.build_globs,
        window=sources.window,
    )
    markdown, summary, path = await operations.generate_report(sources, incident, investigation, None)
    return investigation, markdown, summary, path
