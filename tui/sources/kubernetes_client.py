"""The Kubernetes API client: built from the kubeconfig, and its failures as messages a user can act on.

Kept apart from :mod:`tui.sources.kubernetes` so how the client is set up (retries) and how its
failures are translated (which status means what, and what to tell the user) read in one place.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from typing import Any, TypeVar

from tui.sources.base import AuthError, NotFoundError, RateLimitedError, SourceError
from tui.sources.retry_after import retry_after_seconds

T = TypeVar("T")


def call_api(request: Callable[[], T], *, verb: str, resource: str, namespace: str, host: str,
             passthrough: tuple[int, ...] = ()) -> T:
    """Run one API request; failures become :class:`SourceError` naming ``verb`` and ``resource``.

    Args:
        request: The client call.
        verb: ``get``, ``list``... for the message.
        resource: ``pods``, ``events``... for the message.
        namespace: The namespace, for the message.
        host: The API server, for the message (never a token).
        passthrough: Statuses re-raised as ``ApiException`` for the caller to handle.

    Raises:
        AuthError: 401 or 403.
        RateLimitedError: 429 (API priority and fairness), with the server's ``Retry-After``.
        NotFoundError: 404.
        SourceError: Any other status, no connection, a timeout.
    """
    from kubernetes.client.exceptions import ApiException
    from urllib3.exceptions import HTTPError

    try:
        return request()
    except ApiException as error:
        if error.status in passthrough:
            raise
        if error.status in (401, 403):
            what = "unauthorized (credentials rejected)" if error.status == 401 else "forbidden"
            raise AuthError(f"{what}: cannot {verb} {resource} in namespace {namespace}: check RBAC "
                            f"and the kubeconfig of {host}") from None
        if error.status == 404:
            raise NotFoundError(f"not found: {verb} {resource} in namespace {namespace} on {host}") from None
        if error.status == 429:
            wait = retry_after_seconds(dict(error.headers or {}))
            raise RateLimitedError(f"Kubernetes API {host} is throttling us (429) on {verb} {resource}",
                                   retry_after=wait) from None
        raise SourceError(f"Kubernetes API {host} answered HTTP {error.status} "
                          f"to {verb} {resource} in namespace {namespace}") from None
    except ValueError:  # a body that is not JSON: a proxy's page, a cut-off answer
        raise SourceError(f"Kubernetes API {host} sent a malformed answer to {verb} {resource}") from None
    except (HTTPError, OSError) as error:  # refused, reset, DNS, TLS, timeout: the message names the server only
        text = str(error).lower()
        reason = ("connection refused" if "refused" in text
                  else "no answer in time" if "timed out" in text or "timeout" in type(error).__name__.lower()
                  else type(error).__name__)
        raise SourceError(f"cannot reach the Kubernetes API server at {host}: {reason}") from None


def readable_answers(method: Callable[..., T]) -> Callable[..., T]:
    """Decorate a source method so a wrong-shaped answer met while reading it (a string where an
    object belongs, a list for a map) is a :class:`~tui.sources.kubernetes_parse.PayloadError`
    naming the server (the instance's ``_host``), not a bare ``AttributeError`` in the stale note.

    The answers are read as JSON views, unvalidated (see :mod:`tui.sources.kubernetes_objects`).
    """
    from tui.sources.kubernetes_parse import PayloadError

    @functools.wraps(method)
    def read(self: Any, *args: Any, **kwargs: Any) -> T:
        try:
            return method(self, *args, **kwargs)
        except (AttributeError, TypeError, KeyError, ValueError) as error:
            if isinstance(error, SourceError):
                raise
            raise PayloadError(f"Kubernetes API {self._host} sent an answer the dashboard cannot read "
                               f"({type(error).__name__}: {error})") from error
    return read


def build_api_client(context: str | None, config_file: str | None = None) -> Any:
    """An ApiClient from the kubeconfig (``config_file``, else ``KUBECONFIG`` or ``~/.kube/config``),
    else in-cluster.

    urllib3 would otherwise sleep through a 429's ``Retry-After`` itself, up to three times per
    call, with the pane none the wiser; here a throttled call returns at once and the dashboard's
    backoff waits out the server's time while saying so. Connection failures are still retried.
    """
    from kubernetes import client, config
    from kubernetes.config.config_exception import ConfigException
    from urllib3.util.retry import Retry

    configuration = client.Configuration()
    configuration.retries = Retry(total=3, connect=3, read=0, status=0, redirect=0,
                                  respect_retry_after_header=False, backoff_factor=0.2)
    # Read $KUBECONFIG now: the kubernetes package reads it once, when it is first imported.
    config_file = config_file or os.environ.get("KUBECONFIG") or None
    try:
        config.load_kube_config(config_file=config_file, context=context, client_configuration=configuration)
    except (ConfigException, OSError):
        if context is not None:
            raise SourceError(f"kubeconfig context {context!r} is missing or unusable") from None
        try:
            config.load_incluster_config(client_configuration=configuration)
        except ConfigException:
            raise SourceError("no Kubernetes credentials: set KUBECONFIG or ~/.kube/config, "
                              "or run in a pod with a service account") from None
    return client.ApiClient(configuration)
