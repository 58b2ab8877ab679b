"""A Kubernetes API on loopback for tests: kmock's ``KubernetesEmulator`` in its own process.

Run as ``python kmock_server.py --port 0 --seed seed.json``; it prints ``READY <port>`` once it
listens and serves until killed. It must be a separate process: a synchronous client (the official
``kubernetes`` package) talking to an in-process kmock on the same event loop hangs (TESTING.md).

The seed is JSON::

    {"objects": [{"resource": "v1/pods", "object": {...}}, ...],
     "logs": [{"namespace": "default", "pod": "p", "text": "..."}],
     "summaries": [{"node": "node-1", "summary": {...}}],
     "forbidden": [{"path": "/api/v1/namespaces/locked/pods", "verb": "list", "resource": "pods",
                    "namespace": "locked"}]}

Objects are stored in kmock's emulator, so lists, gets, patches and watches behave statefully.
``logs`` become ``text/plain`` reactions, ``summaries`` serve the kubelet's ``stats/summary``
through the node proxy, and ``forbidden`` paths answer 403 with an RBAC ``Status`` like a real
API server. kmock's traps are handled here: trailing-slash discovery routes, a complete
``/version/``, the core ``/api/v1`` groupVersion, and the resources registered explicitly so an
empty list is ``[]`` rather than 404.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
from pathlib import Path
from typing import Any

import kmock

RESOURCES: dict[str, dict[str, Any]] = {
    "v1/pods": {"namespaced": True, "kind": "Pod", "verbs": {"get", "list", "watch", "patch"},
                "subresources": {"status", "log"}},
    "v1/events": {"namespaced": True, "kind": "Event", "verbs": {"get", "list", "watch"}},
    "v1/nodes": {"namespaced": False, "kind": "Node", "verbs": {"get", "list"}, "subresources": {"proxy"}},
    "apps/v1/replicasets": {"namespaced": True, "kind": "ReplicaSet", "verbs": {"get", "list", "watch"}},
    "apps/v1/deployments": {"namespaced": True, "kind": "Deployment", "verbs": {"get", "list", "watch"}},
    "metrics.k8s.io/v1beta1/pods": {"namespaced": True, "kind": "PodMetrics", "verbs": {"get", "list"}},
}
"""Resources served, registered explicitly (kmock otherwise 404s a list of a resource with no objects)."""

VERSION = {
    "major": "1", "minor": "30", "gitVersion": "v1.30.0", "gitCommit": "0" * 40,
    "gitTreeState": "clean", "buildDate": "2024-04-17T00:00:00Z", "goVersion": "go1.22.2",
    "compiler": "gc", "platform": "linux/amd64",
}
"""All nine VersionInfo fields (clients validate them)."""


def _forbidden_status(rule: dict[str, str]) -> dict[str, Any]:
    """The ``Status`` a real API server returns when RBAC denies a request."""
    where = f' in the namespace "{rule["namespace"]}"' if rule.get("namespace") else ""
    return {
        "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure", "reason": "Forbidden",
        "message": f'{rule["resource"]} is forbidden: User "system:serviceaccount:default:incident-tui" '
                   f'cannot {rule["verb"]} resource "{rule["resource"]}" in API group ""{where}',
        "details": {"kind": rule["resource"]}, "code": 403,
    }


def configure(emulator: kmock.KubernetesEmulator, seed: dict[str, Any]) -> None:
    """Register resources, store the seeded objects and add the reactions of ``seed``."""
    for key, info in RESOURCES.items():
        emulator.resources[key] = kmock.ResourceInfo(**info)
    emulator["get /version/"] << VERSION
    emulator["get /apis/"] << (lambda: emulator._serve_apis(None))  # type: ignore[arg-type]
    emulator["get /api/v1"] << {
        "kind": "APIResourceList", "apiVersion": "v1", "groupVersion": "v1",
        "resources": [{"name": key.split("/")[-1], "singularName": info["kind"].lower(),
                       "namespaced": info["namespaced"], "kind": info["kind"], "verbs": sorted(info["verbs"])}
                      for key, info in RESOURCES.items() if key.startswith("v1/")],
    }
    for rule in seed.get("forbidden", []):
        emulator[f"get {rule['path']}"] << 403 << _forbidden_status(rule)
    for log in seed.get("logs", []):
        path = f"/api/v1/namespaces/{log['namespace']}/pods/{log['pod']}/log"
        emulator[f"get {path}"] << {"Content-Type": "text/plain"} << log["text"].encode()
    for item in seed.get("summaries", []):
        emulator[f"get /api/v1/nodes/{item['node']}/proxy/stats/summary"] << item["summary"]
    for item in seed.get("objects", []):
        meta = item["object"]["metadata"]
        emulator.objects[item["resource"], meta.get("namespace"), meta["name"]] = item["object"]


async def serve(port: int, seed: dict[str, Any]) -> None:
    """Serve until SIGTERM/SIGINT."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    emulator = kmock.KubernetesEmulator()
    async with emulator, kmock.Server(emulator, port=port or None) as server:
        configure(emulator, seed)
        print(f"READY {server.port}", flush=True)
        await stop.wait()


def main() -> None:
    """Parse ``--port`` and ``--seed`` and serve."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--seed", type=Path, required=True)
    args = parser.parse_args()
    asyncio.run(serve(args.port, json.loads(args.seed.read_text(encoding="utf-8"))))


if __name__ == "__main__":
    main()
