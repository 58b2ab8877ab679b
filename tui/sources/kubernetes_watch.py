"""One watch request on the pods of a selector, read as JSON lines.

The official ``kubernetes.watch.Watch`` turns each event into the client's pydantic models (the
cost :mod:`tui.sources.kubernetes_objects` avoids) and only tracks the resource version when it
does. This reads the same stream the same way (``iter_resp_lines``, the socket shut down to stop
a blocked read) and hands out :class:`KubeObject` views, keeping the last resource version so the
caller can resume a stream the server ended.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from typing import Any

from tui.sources.kubernetes_objects import KubeObject


class WatchError(Exception):
    """The server ended the watch with an ``ERROR`` event (410 Gone: the version is too old)."""

    def __init__(self, status: Any, message: Any) -> None:
        """Keep the event's ``code`` as ``status``."""
        super().__init__(f"watch ended by the server: {status} {message}")
        self.status = status


class PodWatch:
    """Pod events from one ``?watch=true`` request at a time; :meth:`stop` from another thread."""

    def __init__(self, requests: Any) -> None:
        """Watch through ``requests`` (a :class:`~tui.sources.kubernetes_requests.KubernetesRequests`)."""
        self._requests = requests
        self._response: Any = None
        self._stopped = False
        self.resource_version: str | None = None
        """The newest version seen (an event's or a bookmark's): where a resumed watch starts."""

    def stream(self, namespace: str, selector: str, resource_version: str | None,
               request_timeout: Any) -> Iterator[tuple[str, KubeObject]]:
        """``(type, pod)`` for each ``ADDED``/``MODIFIED``/``DELETED`` event, until the server ends the stream.

        Raises:
            WatchError: An ``ERROR`` event.
            ValueError: A line that is not JSON.
            kubernetes.client.exceptions.ApiException: The watch request was refused.
        """
        from kubernetes.watch.watch import iter_resp_lines

        self.resource_version = resource_version
        response = self._requests.list_namespaced_pod(
            namespace, label_selector=selector, resource_version=resource_version, watch=True,
            _preload_content=False, _request_timeout=request_timeout)
        self._response = response
        try:
            if self._stopped:  # stop() came while the request was being made
                return
            for line in iter_resp_lines(response):
                if self._stopped:
                    return
                if not line.strip():
                    continue
                event = json.loads(line)
                kind, obj = event.get("type"), event.get("object")
                if not isinstance(obj, dict):
                    continue
                if kind == "ERROR":
                    raise WatchError(obj.get("code"), obj.get("message"))
                metadata = obj.get("metadata")
                if isinstance(metadata, dict) and metadata.get("resourceVersion"):
                    self.resource_version = str(metadata["resourceVersion"])
                if kind != "BOOKMARK":  # a bookmark only moves the version on
                    yield kind, KubeObject(obj)
        finally:
            self._response = None
            response.close()
            response.release_conn()

    def stop(self) -> None:
        """End the stream: a read blocked in another thread returns at once."""
        self._stopped = True
        response = self._response
        sock = getattr(getattr(response, "connection", None), "sock", None)
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)  # close() would wait for the blocked read's lock
            except OSError:
                pass  # already closed
