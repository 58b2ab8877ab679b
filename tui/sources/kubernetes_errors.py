"""Kubernetes API failures as :class:`~tui.sources.base.SourceError` messages a user can act on.

Kept apart from :mod:`tui.sources.kubernetes` so the translation (which status means what, and
what to tell the user) reads in one place.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

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
