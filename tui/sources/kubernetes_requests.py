"""The handful of Kubernetes API requests the workload source makes, on the official ``ApiClient``.

The generated API classes are the heaviest part of the official client: importing ``CoreV1Api``
(63,000 lines of pydantic-annotated methods) takes 0.8 s here and ``AppsV1Api`` another 0.25 s,
all before the first pod can be listed, for seven endpoints out of hundreds. These wrappers make
the same requests the generated methods make, through the same ``ApiClient`` steps they use
(``param_serialize``, ``call_api``, ``response_deserialize``): same authentication, TLS, proxy and
retry configuration, same models back (``V1PodList``...), same ``ApiException`` on a non-2xx.
Method names and keyword arguments follow the generated ones so :class:`kubernetes.watch.Watch`
can stream :meth:`KubernetesRequests.list_namespaced_pod` as it streams ``CoreV1Api``'s.
"""

from __future__ import annotations

from typing import Any

ACCEPT_JSON = {"Accept": "application/json"}
"""What every request asks for (the generated methods pick JSON first, too)."""


class KubernetesRequests:
    """GET requests to the Kubernetes API on one ``kubernetes.client.ApiClient``."""

    def __init__(self, api_client: Any) -> None:
        """Wrap ``api_client``; it is shared, not owned (the caller closes it)."""
        self.api_client = api_client

    def get(self, resource_path: str, path_params: dict[str, str], query: dict[str, Any], response_type: str,
            *, _request_timeout: Any = None, _preload_content: bool = True) -> Any:
        """GET ``resource_path`` and deserialize a 200 answer as ``response_type``.

        Args:
            resource_path: The path with ``{placeholders}``, as in the API reference.
            path_params: Values for the placeholders (quoted by the client).
            query: Query parameters; ``None`` values are left out, booleans sent as ``true``/``false``.
            response_type: The model name (``V1PodList``), ``object`` for a dict or ``str``.
            _request_timeout: Seconds, or ``(connect, read)``.
            _preload_content: ``False`` returns the open ``urllib3`` response (watches, raw bodies).

        Raises:
            kubernetes.client.exceptions.ApiException: The server answered with a non-2xx status.
        """
        from kubernetes.client.exceptions import ApiException

        serialized = self.api_client.param_serialize(
            method="GET", resource_path=resource_path, path_params=path_params,
            query_params=[(key, value) for key, value in query.items() if value is not None],
            header_params=dict(ACCEPT_JSON), auth_settings=["BearerToken"])
        response = self.api_client.call_api(*serialized, _request_timeout=_request_timeout)
        if not _preload_content:
            if not 200 <= response.status <= 299:
                response.read()
                raise ApiException.from_response(http_resp=response, body=None, data=None)
            return response.response
        response.read()
        return self.api_client.response_deserialize(response_data=response,
                                                    response_types_map={"200": response_type}).data

    # -- core/v1 ---------------------------------------------------------------------------

    def list_namespaced_pod(self, namespace: str, *, label_selector: str | None = None,
                            resource_version: str | None = None, watch: bool | None = None,
                            **options: Any) -> Any:
        """``GET /api/v1/namespaces/{namespace}/pods``: a ``V1PodList`` (or a watch stream)."""
        return self.get("/api/v1/namespaces/{namespace}/pods", {"namespace": namespace},
                        {"labelSelector": label_selector, "resourceVersion": resource_version, "watch": watch},
                        "V1PodList", **options)

    def list_namespaced_event(self, namespace: str, *, field_selector: str | None = None, **options: Any) -> Any:
        """``GET /api/v1/namespaces/{namespace}/events``: a ``CoreV1EventList``."""
        return self.get("/api/v1/namespaces/{namespace}/events", {"namespace": namespace},
                        {"fieldSelector": field_selector}, "CoreV1EventList", **options)

    def read_namespaced_pod_log(self, name: str, namespace: str, *, container: str | None = None,
                                previous: bool | None = None, tail_lines: int | None = None, **options: Any) -> Any:
        """``GET /api/v1/namespaces/{namespace}/pods/{name}/log``: the log text."""
        return self.get("/api/v1/namespaces/{namespace}/pods/{name}/log", {"namespace": namespace, "name": name},
                        {"container": container, "previous": previous, "tailLines": tail_lines}, "str", **options)

    def connect_get_node_proxy_with_path(self, name: str, path: str, **options: Any) -> Any:
        """``GET /api/v1/nodes/{name}/proxy/{path}``: the kubelet's answer (pass ``_preload_content=False``)."""
        return self.get("/api/v1/nodes/{name}/proxy/{path}", {"name": name, "path": path}, {}, "str", **options)

    # -- apps/v1 ---------------------------------------------------------------------------

    def list_namespaced_replica_set(self, namespace: str, *, label_selector: str | None = None,
                                    **options: Any) -> Any:
        """``GET /apis/apps/v1/namespaces/{namespace}/replicasets``: a ``V1ReplicaSetList``."""
        return self.get("/apis/apps/v1/namespaces/{namespace}/replicasets", {"namespace": namespace},
                        {"labelSelector": label_selector}, "V1ReplicaSetList", **options)

    def read_namespaced_replica_set(self, name: str, namespace: str, **options: Any) -> Any:
        """``GET /apis/apps/v1/namespaces/{namespace}/replicasets/{name}``: a ``V1ReplicaSet``."""
        return self.get("/apis/apps/v1/namespaces/{namespace}/replicasets/{name}",
                        {"namespace": namespace, "name": name}, {}, "V1ReplicaSet", **options)

    # -- custom resources (metrics.k8s.io) ----------------------------------------------------

    def get_namespaced_custom_object(self, group: str, version: str, namespace: str, plural: str, name: str,
                                     **options: Any) -> Any:
        """``GET /apis/{group}/{version}/namespaces/{namespace}/{plural}/{name}``: the object as a dict."""
        return self.get("/apis/{group}/{version}/namespaces/{namespace}/{plural}/{name}",
                        {"group": group, "version": version, "namespace": namespace, "plural": plural,
                         "name": name}, {}, "object", **options)


WARMED_MODELS = ("V1PodList", "CoreV1EventList", "V1ReplicaSetList")
"""The lists the first workload read deserializes (a list builds its items' models too)."""


def warm_up_models() -> None:
    """Import and build the models the first workload read needs, from empty answers.

    The client builds a model (and the 140-odd models under a pod) on first use, 0.2-0.3 s here.
    Run in a thread while PagerDuty is asked for the incident, that time overlaps a network wait
    instead of coming between the dashboard's first frame and its first memory value.
    """
    import json

    from kubernetes.client import ApiClient

    client = ApiClient()
    try:
        for model in WARMED_MODELS:
            client.deserialize(json.dumps({"metadata": {}, "items": []}), model, "application/json")
    finally:
        client.close()
