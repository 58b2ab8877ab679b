"""The Kubernetes-shaped names the demo workload reports (service, namespace, pod ...)."""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass

_POD_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"  # the alphabet Kubernetes uses for generated names


@dataclass(frozen=True)
class WorkloadNames:
    """The Kubernetes-shaped names the demo workload reports."""

    service: str = "ads-demo-service"
    """PagerDuty service the workload maps to."""
    namespace: str = "demo"
    """Namespace shown for the pod."""
    deployment: str = "worker-deployment"
    """Deployment name; pod names start with it."""
    container: str = "worker-container"
    """Container name."""
    cpu_limit: str = "250m"
    """CPU limit as written in the manifest (shown, not enforced)."""
    environment: str = "local demo process (no cluster)"
    """Where the workload runs."""


def pod_name(deployment: str, sha: str, rng: random.Random | None = None) -> str:
    """A pod name like Kubernetes makes: ``<deployment>-<template hash>-<5 random chars>``.

    Args:
        deployment: Deployment name.
        sha: Deployed commit; the template hash is derived from it, so it changes per rollout.
        rng: Random source for the suffix.
    """
    digest = hashlib.sha256(sha.encode()).digest()
    template = "".join(_POD_ALPHABET[b % len(_POD_ALPHABET)] for b in digest[:10])
    suffix = "".join((rng or random).choice(_POD_ALPHABET) for _ in range(5))
    return f"{deployment}-{template}-{suffix}"
