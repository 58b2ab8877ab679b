"""The live workload source run in a child process, so the Kubernetes client never shares the app's core.

The official Kubernetes client costs the app 0.3 s of import and pydantic's validation on every
read, all under the interpreter lock the dashboard draws with. Measured at start-up the app was
CPU-bound (CPU used equal to the wall time at the first frame), and a jump host has two cores.
:class:`KubernetesProcessSource` starts :mod:`tui.sources.kubernetes_worker` as soon as the config
is read: the child imports the client while the app asks PagerDuty for the incident and imports
Textual, and later reads (and their JSON) are done on its core, not between the app's frames.

It is the :class:`~tui.sources.base.WorkloadSource` the dashboard sees: each method is one request
to the child, the same answers and the same worded :class:`SourceError` as the in-process
:class:`~tui.sources.kubernetes.KubernetesWorkloadSource`. A child that dies or stops answering is
said so on that read and started again on the next (what it had observed is lost with it).
The child gets the kubeconfig but neither the PagerDuty nor the GitHub token.
"""

from __future__ import annotations

import logging
import os
import socket
import subprocess
import sys
import tempfile
import threading
from typing import Any

from tui.config import ServiceMapping
from tui.logsetup import SECRET_ENV
from tui.sources import base
from tui.sources.kubernetes_parse import PayloadError
from tui.sources.kubernetes_worker import receive, send

ANSWER_TIMEOUT = 180.0
"""Seconds to wait for one answer: several requests, each bounded by its own timeouts, and more."""
ERRORS: dict[str, type[base.SourceError]] = {
    cls.__name__: cls for cls in (base.SourceError, base.NotFoundError, base.AuthError, base.RateLimitedError,
                                  PayloadError)}
"""The errors the child's answers are rebuilt as."""

log = logging.getLogger(__name__)


class KubernetesProcessSource:
    """:class:`~tui.sources.kubernetes.KubernetesWorkloadSource`'s reads, made in a child process."""

    def __init__(self, debug_log: str | None = None) -> None:
        """Start the child now (it imports the client at once); :meth:`bind` says what it watches."""
        self._debug_log = debug_log
        self._lock = threading.Lock()
        self._init: dict[str, Any] | None = None
        self._pending_init = False  # init sent, its answer not yet read
        self._initialized = False  # the child has built its source
        self._closed = False
        self._process: subprocess.Popen[bytes] | None = None
        self._sock: socket.socket | None = None
        self._stderr: Any = None
        self._spawn()

    # -- set-up ----------------------------------------------------------------------------

    def bind(self, service: ServiceMapping, *, context: str | None) -> None:
        """Have the child build its source for ``service`` (answered at the first read, or :meth:`ready`).

        Binding again to the same service and context does nothing; to another, rebuilds it.
        """
        with self._lock:
            init = {"service": service, "context": context}
            if init == self._init:
                return
            if self._pending_init:  # the answer to the earlier one comes first
                self._pending_init = False
                try:
                    self._exchange(None)
                except base.SourceError:
                    pass  # that source is being replaced; this init gets its own answer
            self._init, self._initialized = init, False
            self._send_init()

    def ready(self) -> None:
        """Wait until the child has built its source (a read does this too).

        Raises:
            SourceError: No Kubernetes credentials, an unusable context, or the child failed, as
                the in-process source's constructor says it; the next read tries again.
        """
        with self._lock:
            self._prepare()

    def close(self) -> None:
        """End the child (its watch stops with it). Safe to call twice."""
        self._closed = True
        if self._lock.acquire(timeout=2.0):  # a read still under way is cut short instead of waited for
            try:
                if self._sock is not None:
                    try:
                        send(self._sock, ("close",))
                    except OSError:
                        pass  # already gone
            finally:
                self._lock.release()
        self._stop(grace=5.0)

    # -- WorkloadSource ----------------------------------------------------------------------

    def describe(self) -> Any:
        """See :meth:`KubernetesWorkloadSource.describe`."""
        return self._call("describe")

    def memory_since(self, after: Any) -> Any:
        """See :meth:`KubernetesWorkloadSource.memory_since`."""
        return self._call("memory_since", after)

    def container_state(self) -> Any:
        """See :meth:`KubernetesWorkloadSource.container_state`."""
        return self._call("container_state")

    def events(self) -> Any:
        """See :meth:`KubernetesWorkloadSource.events`."""
        return self._call("events")

    def oom_kills(self) -> Any:
        """See :meth:`KubernetesWorkloadSource.oom_kills`."""
        return self._call("oom_kills")

    def deployments(self) -> Any:
        """See :meth:`KubernetesWorkloadSource.deployments`."""
        return self._call("deployments")

    def previous_logs(self, lines: int = 200) -> Any:
        """See :meth:`KubernetesWorkloadSource.previous_logs`."""
        return self._call("previous_logs", lines)

    def events_snapshot(self) -> Any:
        """See :meth:`KubernetesWorkloadSource.events_snapshot`."""
        return self._call("events_snapshot")

    # -- the child -------------------------------------------------------------------------

    def _call(self, method: str, *args: Any) -> Any:
        with self._lock:
            self._prepare()
            return self._exchange(("call", method, args, {}))

    def _prepare(self) -> None:
        """A running child with its source built (started again, or asked again, after a failure)."""
        if self._closed:
            raise base.SourceError("the Kubernetes source is closed")
        if self._process is None:  # it died on an earlier read
            self._spawn()
        if not self._initialized and not self._pending_init:  # a new child, or its last init failed
            self._send_init()
        if self._pending_init:
            self._pending_init = False
            self._exchange(None)
            self._initialized = True

    def _spawn(self) -> None:
        parent, child = socket.socketpair()
        # Least privilege: the reader needs the kubeconfig, not the PagerDuty or GitHub token.
        environment = {name: value for name, value in os.environ.items() if name not in SECRET_ENV}
        self._stderr = tempfile.TemporaryFile()  # noqa: SIM115  # kept open across calls: its last line says why it died
        argv = [sys.executable, "-m", "tui.sources.kubernetes_worker", str(child.fileno())]
        try:
            self._process = subprocess.Popen(
                argv + ([self._debug_log] if self._debug_log else []), pass_fds=(child.fileno(),),
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=self._stderr, env=environment)
        except OSError as error:
            parent.close()
            raise base.SourceError(f"cannot start the Kubernetes reader process: {error.strerror}") from None
        finally:
            child.close()
        parent.settimeout(ANSWER_TIMEOUT)
        self._sock = parent

    def _send_init(self) -> None:
        if self._init is None or self._sock is None:
            return
        try:
            send(self._sock, ("init", self._init))
            self._pending_init = True
        except OSError:
            self._pending_init = True  # the answer's read reports the dead child

    def _exchange(self, request: Any) -> Any:
        """Send ``request`` (``None``: only read the answer to one sent before); return the answer's value."""
        assert self._sock is not None
        try:
            if request is not None:
                send(self._sock, request)
            answer = receive(self._sock)
        except TimeoutError:
            self._stop(grace=0.0)
            raise base.SourceError(f"the Kubernetes reader gave no answer in {ANSWER_TIMEOUT:.0f}s; "
                                   "it is started again on the next read") from None
        except (EOFError, OSError):
            why = self._stop(grace=1.0)
            log.debug("Kubernetes reader process stopped (%s)", why)
            raise base.SourceError(f"the Kubernetes reader process stopped ({why}); "
                                   "it is started again on the next read") from None
        if answer[0] == "ok":
            return answer[1]
        _, name, message, retry_after, permanent = answer
        raise ERRORS.get(name, base.SourceError)(message, retry_after=retry_after, permanent=permanent)

    def _stop(self, *, grace: float) -> str:
        """End the child (waiting ``grace`` seconds for it first); why it ended, for the message."""
        process, self._process = self._process, None
        if self._sock is not None:
            self._sock.close()
            self._sock = None
        self._pending_init = self._initialized = False
        if process is None:
            return "not running"
        try:
            process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        return f"exit status {process.returncode}{self._last_error_line()}"

    def _last_error_line(self) -> str:
        stderr, self._stderr = self._stderr, None
        if stderr is None:
            return ""
        try:
            stderr.seek(0)
            lines = [line for line in stderr.read()[-2000:].decode("utf-8", "replace").splitlines() if line.strip()]
        finally:
            stderr.close()
        return f": {lines[-1].strip()[:200]}" if lines else ""
