"""The Kubernetes part of ``incident-tui check``: reachable, authenticated, permitted, and the pod.

Permissions are asked with ``SelfSubjectAccessReview`` for everything the dashboard does: get, list
and watch pods, list events, get ``pods.metrics.k8s.io`` and get ``nodes/proxy``. A server that does
not evaluate the review (it answers 403/404, or returns the object without a ``status``, as the kmock
emulator does) is checked by *trying* those requests instead, reporting each 403; the ``permitted``
row says which of the two ways was used. The ``kubernetes`` client blocks: call from a thread.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tui.checks import Check, UpstreamReport, Verdict, fail, not_checked, ok, warn
from tui.config import Config, ServiceMapping
from tui.sources import kubernetes_parse as parse
from tui.sources.base import SourceError

TIMEOUT = (5.0, 15.0)
"""(connect, read) seconds per request."""
BY_REVIEW = "checked with SelfSubjectAccessReview"
"""How ``permitted`` was decided when the server evaluates access reviews."""
BY_TRYING = "SelfSubjectAccessReview is not evaluated by this server: checked by trying the requests"
"""How ``permitted`` was decided otherwise."""


@dataclass(frozen=True)
class Access:
    """One permission the dashboard needs."""

    verb: str
    """``get``, ``list`` or ``watch``."""
    resource: str
    """Plural resource name."""
    group: str = ""
    """API group (``""`` is the core group)."""
    subresource: str = ""
    """Subresource, e.g. ``proxy``."""

    @property
    def label(self) -> str:
        """As RBAC messages write it: ``list pods``, ``get pods.metrics.k8s.io``, ``get nodes/proxy``."""
        resource = f"{self.resource}.{self.group}" if self.group else self.resource
        return f"{self.verb} {resource}{'/' + self.subresource if self.subresource else ''}"


REQUIRED = (Access("get", "pods"), Access("list", "pods"), Access("watch", "pods"), Access("list", "events"))
"""Without these the dashboard cannot follow the workload."""
MEMORY = (Access("get", "pods", "metrics.k8s.io"), Access("get", "nodes", subresource="proxy"))
"""Live memory: metrics-server, else the kubelet summary; one of the two is enough."""


def check_kubernetes(config: Config, service: ServiceMapping, *, api_client: Any = None) -> UpstreamReport:
    """Check the cluster and namespace of one mapped service.

    Args:
        config: The configuration (``[kubernetes] context``).
        service: Namespace, selector and container.
        api_client: A ready ``ApiClient`` (tests); else one is built from the kubeconfig and closed.

    Returns:
        The report: reachable, authenticated, permitted and pod.
    """
    context = config.kubernetes.context
    title = f"Kubernetes namespace {service.namespace}, {service.selector} (context {context or 'current'})"
    later = ("authenticated", "permitted", "pod")
    try:
        api = api_client if api_client is not None else _api_client(context)
    except SourceError as error:
        return UpstreamReport(title, (fail("reachable", str(error)), *not_checked(later, "no credentials")))
    try:
        return UpstreamReport(title, tuple(_checks(api, service)))
    finally:
        if api_client is None:
            api.close()


def _api_client(context: str | None) -> Any:
    """An ApiClient from the kubeconfig, as the live source builds it."""
    # One way to read the kubeconfig, shared with the live source.
    from tui.sources.kubernetes import build_api_client

    return build_api_client(context)


def _checks(api: Any, service: ServiceMapping) -> list[Check]:
    """The four rows, each skipped when an earlier one makes it pointless."""
    from kubernetes import client

    host = str(api.configuration.host)
    status, version = _try(lambda: client.VersionApi(api).get_code(_request_timeout=TIMEOUT))
    if status == -1:
        return [fail("reachable", f"cannot reach the Kubernetes API server at {host}: check KUBECONFIG, the "
                                  "context and the network"),
                *not_checked(("authenticated", "permitted", "pod"), "the API server is unreachable")]
    rows = [ok("reachable", f"{version.git_version} at {host}" if version is not None else f"{host} answered HTTP {status}")]
    status, _ = _try(lambda: client.CoreV1Api(api).get_api_resources(_request_timeout=TIMEOUT))
    if status == 401:
        return [*rows, fail("authenticated", f"{host} rejected the kubeconfig's credentials (401): refresh the token "
                                             "or certificate of the context (kubectl get pods should work)"),
                *not_checked(("permitted", "pod"), "the credentials were not accepted")]
    rows.append(ok("authenticated"))
    reviewed = _review(api, service.namespace)
    pods_status, listed = _try(lambda: client.CoreV1Api(api).list_namespaced_pod(
        service.namespace, label_selector=service.selector, _request_timeout=TIMEOUT))
    pod = _pod_row(service, pods_status, listed)
    if reviewed is None:
        allowed, untried = _by_trying(api, service, pods_status, _matching_pod(service, listed))
        how = BY_TRYING
    else:
        allowed, untried, how = reviewed, (), BY_REVIEW
    rows += [_permitted_row(service.namespace, allowed, untried, how), pod]
    return rows


def _try(request: Any) -> tuple[int | None, Any]:
    """``(None, result)`` on success, ``(status, None)`` on an HTTP error, ``(-1, None)`` when unreachable."""
    from kubernetes.client.exceptions import ApiException
    from urllib3.exceptions import HTTPError

    try:
        return None, request()
    except ApiException as error:
        return int(error.status or 0), None
    except (HTTPError, OSError):
        return -1, None


def _review(api: Any, namespace: str) -> dict[Access, bool] | None:
    """Each needed permission by SelfSubjectAccessReview; ``None`` when the server does not evaluate them."""
    from kubernetes import client

    authorization = client.AuthorizationV1Api(api)
    answers: dict[Access, bool] = {}
    for access in (*REQUIRED, *MEMORY):
        body = client.V1SelfSubjectAccessReview(spec=client.V1SelfSubjectAccessReviewSpec(
            resource_attributes=client.V1ResourceAttributes(
                namespace=None if access.resource == "nodes" else namespace, verb=access.verb,
                resource=access.resource, group=access.group, subresource=access.subresource or None)))
        status, review = _try(lambda body=body: authorization.create_self_subject_access_review(body, _request_timeout=TIMEOUT))
        if status is not None or review is None or review.status is None or review.status.allowed is None:
            return None
        answers[access] = bool(review.status.allowed)
    return answers


def _matching_pod(service: ServiceMapping, listed: Any) -> Any | None:
    """The newest listed pod that matches the selector and has the container."""
    pods = [pod for pod in (listed.items if listed is not None else []) or []
            if parse.matches_selector(pod.metadata.labels, service.selector)
            and parse.find_container_spec(pod, service.container) is not None]
    return max(pods, key=lambda pod: (str(pod.metadata.creation_timestamp), pod.metadata.name), default=None)


def _by_trying(api: Any, service: ServiceMapping, list_status: int | None,
               pod: Any | None) -> tuple[dict[Access, bool], tuple[str, ...]]:
    """Make each request the dashboard makes; a 401/403 means denied (404 is allowed, just absent).

    Returns:
        What was allowed, and the labels of what could not be tried (no pod to try it on).
    """
    from kubernetes import client

    core, custom = client.CoreV1Api(api), client.CustomObjectsApi(api)
    ns, selector = service.namespace, service.selector

    def watch() -> None:
        response = core.list_namespaced_pod(ns, label_selector=selector, watch=True, timeout_seconds=1,
                                            _preload_content=False, _request_timeout=TIMEOUT)
        response.close()  # the headers are the answer; the stream is not read

    def node_proxy() -> None:
        response = core.connect_get_node_proxy_with_path(pod.spec.node_name, "stats/summary",
                                                         _preload_content=False, _request_timeout=TIMEOUT)
        response.close()

    trials = {
        Access("list", "pods"): None,
        Access("watch", "pods"): watch,
        Access("list", "events"): lambda: core.list_namespaced_event(ns, limit=1, _request_timeout=TIMEOUT),
    }
    if pod is not None:
        name = pod.metadata.name
        trials[Access("get", "pods")] = lambda: core.read_namespaced_pod(name, ns, _request_timeout=TIMEOUT)
        trials[MEMORY[0]] = lambda: custom.get_namespaced_custom_object(
            "metrics.k8s.io", "v1beta1", ns, "pods", name, _request_timeout=TIMEOUT)
        if pod.spec is not None and pod.spec.node_name:
            trials[MEMORY[1]] = node_proxy
    allowed: dict[Access, bool] = {}
    for access, request in trials.items():
        status = list_status if request is None else _try(request)[0]
        allowed[access] = status not in (401, 403)
    untried = tuple(access.label for access in (*REQUIRED, *MEMORY) if access not in allowed)
    return allowed, untried


def _permitted_row(namespace: str, allowed: dict[Access, bool], untried: tuple[str, ...], how: str) -> Check:
    """FAIL on a denied required permission or on both memory sources denied; WARN on one of them."""
    denied = [access for access in (*REQUIRED, *MEMORY) if allowed.get(access) is False]
    note = f"; not tried (no matching pod): {', '.join(untried)}" if untried else ""
    fix = (f"ask the cluster admin for a Role (or ClusterRole for nodes/proxy) granting it in namespace {namespace}"
           f" ({how}{note})")
    required = [access.label for access in denied if access in REQUIRED]
    memory = [access.label for access in denied if access in MEMORY]
    if required:
        return fail("permitted", f"forbidden: {', '.join(required + memory)} in namespace {namespace}: {fix}")
    if len(memory) == len(MEMORY):
        return fail("permitted", f"forbidden: {' and '.join(memory)}: no live memory for the graph: {fix}")
    if memory:
        return warn("permitted", f"forbidden: {memory[0]} (the other memory source is allowed): {fix}")
    granted = ", ".join(access.label for access in (*REQUIRED, *MEMORY) if allowed.get(access))
    return Check("permitted", Verdict.OK, f"{granted} in namespace {namespace}; {how}{note}")


def _pod_row(service: ServiceMapping, status: int | None, listed: Any) -> Check:
    """Whether a pod matches the selector and has the container."""
    if status is not None:
        return Check("pod", Verdict.NA, f"not checked: listing pods answered HTTP {status}")
    pod = _matching_pod(service, listed)
    if pod is not None:
        return ok("pod", f"{pod.metadata.name} has container {service.container}")
    matching = [p for p in listed.items or [] if parse.matches_selector(p.metadata.labels, service.selector)]
    if not matching:
        return fail("pod", f"no pod matches {service.selector} in namespace {service.namespace}: check [[service]] "
                           f"selector and namespace (kubectl get pods -n {service.namespace} -l {service.selector})")
    names = sorted({c.name for p in matching for c in (p.spec.containers if p.spec else []) or []})
    return fail("pod", f"pods match {service.selector} but none has container {service.container!r} "
                       f"(containers: {', '.join(names)}): check [[service]] container")
