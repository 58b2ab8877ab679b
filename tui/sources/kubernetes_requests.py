"""The handful of Kubernetes API requests the workload source makes, on the official ``ApiClient``.

The generated API classes are the heaviest part of the official client: importing ``CoreV1Api``
(63,000 lines of pydantic-annotated methods) takes 0.8 s here and ``AppsV1Api`` another 0.25 s,
all before the first pod can be listed, for seven endpoints out of hundreds. These wrappers make
the same requests the generated methods make, through the same ``ApiClient`` steps they use
(``param_serialize``, ``call_api``): same authentication, TLS, proxy and retry configuration, same
``ApiException`` on a non-2xx. The answers are not turned into the client's pydantic models but
read as :class:`~tui.sources.kubernetes_objects.KubeObject` views of their JSON, under the same
attribute names (see that module for why). Method names and keyword arguments follow the
generated ones.
"""

from __future__ import annotations

from typing import Any

from tui.sources.kubernetes_objects import read_object

ACCEPT_JSON = {"Accept": "application/json"}
"""What every request asks for (the generated methods pick JSON first, too)."""


class KubernetesRequests:
    """GET requests to the Kubernetes API on one ``kubernetes.client.ApiClient``."""

    def __init__(self, api_client: Any) -> None:
        """Wrap ``api_client``; it is shared, not owned (the caller closes it)."""
        self.api_client = api_client

    def get(self, resource_path: str, path_params: dict[str, str], query: dict[str, Any], *,
            _request_timeout: Any = None, _preload_content: bool = True) -> Any:
        """GET ``resource_path``; a 2xx answer is read as one JSON object (:class:`KubeObject`).

        Args:
            resource_path: The path with ``{placeholders}``, as in the API reference.
            path_params: Values for the placeholders (quoted by the client).
            query: Query parameters; ``None`` values are left out, booleans sent as ``true``/``false``.
            _request_timeout: Seconds, or ``(connect, read)``.
            _preload_content: ``False`` returns the open ``urllib3`` response (watches, raw bodies).

        Raises:
            kubernetes.client.exceptions.ApiException: The server answered with a non-2xx status.
            ValueError: The answer is not a JSON object.
        """
        response = self._send(resource_path, path_params, query, _request_timeout)
        if not _preload_content:
            return response.response
        return read_object(response.read())

    def get_text(self, resource_path: str, path_params: dict[str, str], query: dict[str, Any], *,
                 _request_timeout: Any = None) -> str:
        """GET ``resource_path`` and return a 2xx answer's body as text (logs)."""
        response = self._send(resource_path, path_params, query, _request_timeout)
        return response.read().decode("utf-8", "replace")

    def _send(self, resource_path: str, path_params: dict[str, str], query: dict[str, Any],
              request_timeout: Any) -> Any:
        """Make the request through the client; raise ``ApiException`` unless it is a 2xx."""
        from kubernetes.client.exceptions import ApiException

        serialized = self.api_client.param_serialize(
            method="GET", resource_path=resource_path, path_params=path_params,
            query_params=[(key, value) for key, value in query.items() if value is not None],
            header_params=dict(ACCEPT_JSON), auth_settings=["BearerToken"])
        response = self.api_client.call_api(*serialized, _request_timeout=request_timeout)
        if not 200 <= response.status <= 299:
            response.read()
            raise ApiException.from_response(http_resp=response, body=None, data=None)
        return response

    # -- core/v1 ---------------------------------------------------------------------------

    def list_namespaced_pod(self, namespace: str, *, label_selector: str | None = None,
                            resource_version: str | None = None, watch: bool | None = None,
                            **options: Any) -> Any:
        """``GET /api/v1/namespaces/{namespace}/pods``: a pod list (or, with ``watch``, the open stream)."""
        return self.get("/api/v1/namespaces/{namespace}/pods", {"namespace": namespace},
                        {"labelSelector": label_selector, "resourceVersion": resource_version, "watch": watch,
                         "allowWatchBookmarks": True if watch else None}, **options)

    def list_namespaced_event(self, namespace: str, *, field_selector: str | None = None, **options: Any) -> Any:
        """``GET /api/v1/namespaces/{namespace}/events``: an event list."""
        return self.get("/api/v1/namespaces/{namespace}/events", {"namespace": namespace},
                        {"fieldSelector": field_selector}, **options)

    def read_namespaced_pod_log(self, name: str, namespace: str, *, container: str | None = None,
                                previous: bool | None = None, tail_lines: int | None = None, **options: Any) -> Any:
        """``GET /api/v1/namespaces/{namespace}/pods/{name}/log``: the log text."""
        return self.get_text("/api/v1/namespaces/{namespace}/pods/{name}/log", {"namespace": namespace, "name": name},
                             {"container": container, "previous": previous, "tailLines": tail_lines}, **options)

    def connect_get_node_proxy_with_path(self, name: str, path: str, **options: Any) -> Any:
        """``GET /api/v1/nodes/{name}/proxy/{path}``: the kubelet's answer (pass ``_preload_content=False``)."""
        return self.get("/api/v1/nodes/{name}/proxy/{path}", {"name": name, "path": path}, {}, **options)

    # -- apps/v1 ---------------------------------------------------------------------------

    def list_namespaced_replica_set(self, namespace: str, *, label_selector: str | None = None,
                                    **options: Any) -> Any:
        """``GET /apis/apps/v1/namespaces/{namespace}/replicasets``: a ReplicaSet list."""
        return self.get("/apis/apps/v1/namespaces/{namespace}/replicasets", {"namespace": namespace},
                        {"labelSelector": label_selector}, **options)

    def read_namespaced_replica_set(self, name: str, namespace: str, **options: Any) -> Any:
        """``GET /apis/apps/v1/namespaces/{namespace}/replicasets/{name}``: one ReplicaSet."""
        return self.get("/apis/apps/v1/namespaces/{namespace}/replicasets/{name}",
                        {"namespace": namespace, "name": name}, {}, **options)

    # -- custom resources (metrics.k8s.io) ----------------------------------------------------

    def get_namespaced_custom_object(self, group: str, version: str, namespace: str, plural: str, name: str,
                                     **options: Any) -> Any:
        """``GET /apis/{group}/{version}/namespaces/{namespace}/{plural}/{name}``: the object."""
        return self.get("/apis/{group}/{version}/namespaces/{namespace}/{plural}/{name}",
                        {"group": group, "version": version, "namespace": namespace, "plural": plural,
                         "name": name}, {}, **options)
