"""The Kubernetes reader process: a :class:`KubernetesWorkloadSource` in an interpreter of its own.

Run as ``python -m tui.sources.kubernetes_worker FD [DEBUG_LOG]`` by
:class:`~tui.sources.kubernetes_process.KubernetesProcessSource`, talking over the socket ``FD``
in :func:`send`/:func:`receive` frames. It imports the Kubernetes client at once (0.3 s of a
core), while the app asks PagerDuty for the incident and imports Textual on the other, then
waits for the service to watch. It ends when the app closes it or goes away (end of file).
"""

from __future__ import annotations

import logging
import pickle
import signal
import socket
import struct
import sys
from pathlib import Path
from typing import Any

HEADER = struct.Struct("!I")
"""Each frame: its length, then the pickled message."""
SOURCE_METHODS = frozenset({"describe", "memory_since", "container_state", "events", "oom_kills", "deployments",
                            "previous_logs", "events_snapshot"})
"""What the app may ask the source running here."""

log = logging.getLogger("incident_tui.kubernetes_worker")


def send(sock: socket.socket, message: Any) -> None:
    """Write one frame."""
    body = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    sock.sendall(HEADER.pack(len(body)) + body)


def receive(sock: socket.socket) -> Any:
    """Read one frame.

    Raises:
        EOFError: The other end closed the socket.
        TimeoutError: The socket's timeout passed first.
    """
    (length,) = HEADER.unpack(_read_exactly(sock, HEADER.size))
    return pickle.loads(_read_exactly(sock, length))  # our own process at the other end


def _read_exactly(sock: socket.socket, size: int) -> bytes:
    chunks, left = [], size
    while left:
        chunk = sock.recv(min(left, 1 << 20))
        if not chunk:
            raise EOFError("the other end closed the connection")
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def error_reply(error: BaseException) -> tuple[str, str, str, float | None, bool | None]:
    """``("error", class name, message, retry_after, permanent)``: what the app rebuilds the error from."""
    from tui.sources.base import SourceError

    if isinstance(error, SourceError):
        return "error", type(error).__name__, str(error), error.retry_after, error.permanent
    log.debug("Kubernetes reader failed", exc_info=error)
    return "error", "SourceError", f"Kubernetes reader failed: {type(error).__name__}: {error}", None, None


def warm_up(source: Any) -> None:
    """Make the first reads the dashboard makes (the pod, the first memory sample) now.

    The app's first read waits for this answer anyway; when it is asked early (a config that maps
    one service is bound before PagerDuty answers), these round trips are off its path: the
    pod and the sample are then kept for the reads that follow (10 s and 5 s). A failure is the
    init's answer: the app's read reports it (a 429 with its reset time) instead of asking again
    at once, and its next read sends the init again.
    """
    source.describe()
    source.memory_since(None)


def serve(sock: socket.socket) -> None:
    """Answer the app's requests until it closes the source or the connection."""
    from tui.sources.kubernetes import KubernetesWorkloadSource

    source: KubernetesWorkloadSource | None = None
    try:
        while True:
            try:
                request = receive(sock)
            except EOFError:
                return  # the app has gone
            if request[0] == "close":
                return
            try:
                if request[0] == "init":
                    if source is not None:
                        source.close()
                        source = None
                    source = KubernetesWorkloadSource(**request[1])
                    warm_up(source)
                    reply: Any = ("ok", None)
                elif source is not None and request[1] in SOURCE_METHODS:
                    reply = ("ok", getattr(source, request[1])(*request[2], **request[3]))
                else:
                    reply = ("error", "SourceError", f"Kubernetes reader: no such request {request!r:.80}", None, None)
            except Exception as error:  # noqa: BLE001  # every failure goes back to the app, worded
                reply = error_reply(error)
            send(sock, reply)
    finally:
        if source is not None:
            source.close()


def main(argv: list[str]) -> int:
    """Entry point: ``FD [DEBUG_LOG]``."""
    # The terminal's Ctrl-C is the app's to handle; this process ends when the app closes it.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    sock = socket.socket(fileno=int(argv[0]))
    if len(argv) > 1:
        from tui.logsetup import configure_debug_log

        configure_debug_log(Path(argv[1]))
    # The head start this process exists for: the client, while the app's own start goes on.
    import kubernetes.config
    import kubernetes.watch.watch  # noqa: F401

    log.debug("Kubernetes client imported")
    try:
        serve(sock)
    except (BrokenPipeError, ConnectionResetError):
        pass  # the app went away mid-answer
    finally:
        sock.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
