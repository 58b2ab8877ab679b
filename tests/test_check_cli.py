"""``incident-tui check`` as a user runs it: a subprocess against the loopback stacks, real exit codes.

PagerDuty and GitHub are our fakes behind Prism, Kubernetes is kmock (its seed plus the demo
workload's pod in namespace ``demo``, where the Prometheus fixture's history lives), Prometheus is a
real server with backfilled history. Each test breaks one thing and reads the row that must say so.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.register_assert_rewrite("tests.fixtures_live", "tests.fixtures_github", "tests.fixtures_kubernetes",
                               "tests.fixtures_prometheus")

from tests.fixtures_github import REPOSITORY, GitHubStack
from tests.fixtures_github import TOKEN as GITHUB_TOKEN
from tests.fixtures_kubernetes import (
    SERVER_SCRIPT,
    KubeCluster,
    build_kubernetes_seed,
    container,
    container_status,
    pod,
    write_kubeconfig,
)
from tests.fixtures_kubernetes import TOKEN as KUBE_TOKEN
from tests.fixtures_live import (
    ACCOUNT_TOKEN,
    ADS_NAME,
    ADS_OPEN,
    ADS_SERVICE,
    SAM_EMAIL,
    USER_TOKEN,
    PagerDutyStack,
)
from tests.fixtures_prometheus import (
    LEAK_CONTAINER,
    LEAK_POD,
    NAMESPACE,
    PrometheusServer,
)
from tests.prism import free_port, start_fake, stop
from tests.test_live_cli import assert_one_line_error, run_cli

pytest_plugins = ["tests.fixtures_live", "tests.fixtures_github", "tests.fixtures_prometheus"]

SECRETS = (USER_TOKEN, ACCOUNT_TOKEN, GITHUB_TOKEN, KUBE_TOKEN, "not-a-real-token-DO-NOT-LEAK")
"""Every credential a test hands the command: none may appear in its output."""


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[KubeCluster]:
    """kmock with the standard seed plus the demo workload's pod in namespace ``demo``."""
    seed = build_kubernetes_seed()
    seed["objects"].append({"resource": "v1/pods", "object": pod(
        LEAK_POD, NAMESPACE, {"app": "worker-app"}, [container(LEAK_CONTAINER, "64Mi")],
        [container_status(LEAK_CONTAINER)], node="node-1")})
    path = tmp_path / "kube-seed.json"
    path.write_text(json.dumps(seed), encoding="utf-8")
    process, port = start_fake(SERVER_SCRIPT, path)
    url = f"http://127.0.0.1:{port}"
    try:
        yield KubeCluster(url=url, kubeconfig=write_kubeconfig(tmp_path / "kubeconfig", url))
    finally:
        stop(process)


def write_check_config(path: Path, pagerduty_url: str, github_url: str, *, prometheus_url: str | None = None,
                       namespace: str = NAMESPACE, selector: str = "app=worker-app",
                       container_name: str = LEAK_CONTAINER, from_email: str | None = None) -> Path:
    """A config mapping ads-demo-service to a kmock pod, the GitHub fake's repository and maybe Prometheus."""
    text = f'[pagerduty]\napi_url = "{pagerduty_url}"\n'
    text += f'from_email = "{from_email}"\n' if from_email else ""
    text += f'\n[github]\napi_url = "{github_url}"\n\n[kubernetes]\ncontext = "kmock"\n\n'
    text += f'[prometheus]\nurl = "{prometheus_url}"\n\n' if prometheus_url else ""
    text += (f'[[service]]\npagerduty_service = "{ADS_NAME}"\nnamespace = "{namespace}"\nselector = "{selector}"\n'
             f'container = "{container_name}"\nrepository = "{REPOSITORY}"\nbranch = "main"\n')
    path.write_text(text, encoding="utf-8")
    return path


def run_check(config: Path, cluster: KubeCluster, tmp_path: Path, *, pagerduty_token: str = USER_TOKEN,
              github_token: str = GITHUB_TOKEN) -> subprocess.CompletedProcess[str]:
    """``incident-tui check --config CONFIG`` with the tokens and kubeconfig; asserts no secret leaked."""
    result = run_cli("check", "--config", str(config), tmp_path=tmp_path, timeout=120,
                     PAGERDUTY_API_TOKEN=pagerduty_token, GITHUB_TOKEN=github_token,
                     KUBECONFIG=str(cluster.kubeconfig))
    assert "Traceback" not in result.stderr, result.stderr
    for secret in SECRETS:
        assert secret not in result.stdout and secret not in result.stderr
    return result


def section(output: str, heading: str) -> dict[str, str]:
    """The rows under the heading that starts with ``heading``: name -> verdict text."""
    rows: dict[str, str] = {}
    inside = False
    for line in output.splitlines():
        if not line.startswith("  "):
            inside = line.startswith(heading)
            continue
        if inside:
            name, _, verdict = line.strip().partition("  ")
            rows[name.strip()] = verdict.strip()
    assert rows, f"no section {heading!r} in:\n{output}"
    return rows


def test_a_healthy_setup_passes_every_check(pagerduty: PagerDutyStack, github: GitHubStack, cluster: KubeCluster,
                                            prometheus: PrometheusServer, tmp_path: Path) -> None:
    # GIVEN the loopback stacks and a config mapping the demo workload on all four of them
    config = write_check_config(tmp_path / "config.toml", pagerduty.url, github.url, prometheus_url=prometheus.url)
    # WHEN check runs
    result = run_check(config, cluster, tmp_path)
    # THEN it exits 0 and says so
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip().endswith("all checks passed")
    # AND PagerDuty accepted the user key and lists the mapped service's incidents
    pd = section(result.stdout, "PagerDuty")
    assert pd["reachable"].startswith("ok") and pd["authenticated"].startswith("ok")
    assert pd["key type"] == "ok (user-level API key)"
    assert pd["from"] == "ok (not needed: a user key writes as its user)"
    assert pd["permitted"] == f"ok (lists incidents of {ADS_NAME} ({ADS_SERVICE}): {ADS_OPEN} open)"
    # AND Kubernetes found the pod and, as kmock does not evaluate access reviews, tried the requests
    kube = section(result.stdout, "Kubernetes")
    assert kube["reachable"] == f"ok (v1.30.0 at {cluster.url})" and kube["authenticated"] == "ok"
    assert kube["permitted"].startswith("ok (get pods, list pods, watch pods, list events, get pods.metrics.k8s.io, "
                                        "get nodes/proxy in namespace demo; SelfSubjectAccessReview is not evaluated")
    assert kube["pod"] == f"ok ({LEAK_POD} has container {LEAK_CONTAINER})"
    # AND GitHub reads the repository, whose default branch is the configured one
    gh = section(result.stdout, "GitHub")
    assert gh["authenticated"].startswith("ok") and gh["permitted"].startswith("ok")
    assert gh["branch"] == "ok (default branch is main)"
    assert gh["scopes"].startswith("n/a")  # the fake sends no X-OAuth-Scopes: a fine-grained token's case
    # AND Prometheus has the memory metric for the namespace
    prom = section(result.stdout, "Prometheus")
    assert prom["reachable"] == f"ok ({prometheus.url.removeprefix('http://')} answered HTTP 200)"
    assert prom["metric"].startswith("ok (container_memory_working_set_bytes:")


def test_a_rejected_pagerduty_token_fails_authenticated(pagerduty: PagerDutyStack, github: GitHubStack,
                                                        cluster: KubeCluster, tmp_path: Path) -> None:
    # GIVEN a PagerDuty token the account does not know
    config = write_check_config(tmp_path / "config.toml", pagerduty.url, github.url)
    # WHEN check runs
    result = run_check(config, cluster, tmp_path, pagerduty_token="not-a-real-token-DO-NOT-LEAK")
    # THEN PagerDuty is reachable but not authenticated, with the fix; the later rows are n/a; exit 1
    assert result.returncode == 1, result.stdout + result.stderr
    pd = section(result.stdout, "PagerDuty")
    assert pd["reachable"].startswith("ok")
    assert pd["authenticated"] == "FAIL: PagerDuty rejected the token (401): check PAGERDUTY_API_TOKEN"
    assert pd["permitted"].startswith("n/a")
    # AND the other upstreams are still checked
    assert section(result.stdout, "GitHub")["permitted"].startswith("ok")


@pytest.mark.parametrize(("from_email", "expected"), [
    (None, "FAIL: an account-level key needs a From header"),
    (SAM_EMAIL, f"ok (needed by an account key; writes send From: {SAM_EMAIL})"),
])
def test_an_account_key_needs_from_email(from_email: str | None, expected: str, pagerduty: PagerDutyStack,
                                         github: GitHubStack, cluster: KubeCluster, tmp_path: Path) -> None:
    # GIVEN an account-level PagerDuty key, with or without [pagerduty] from_email
    config = write_check_config(tmp_path / "config.toml", pagerduty.url, github.url, from_email=from_email)
    # WHEN check runs
    result = run_check(config, cluster, tmp_path, pagerduty_token=ACCOUNT_TOKEN)
    # THEN the key is seen as account-level and the From row fails only without from_email, naming it
    pd = section(result.stdout, "PagerDuty")
    assert pd["key type"] == "ok (account-level API key)"
    assert pd["from"].startswith(expected)
    assert ("from_email" in pd["from"] and str(config) in pd["from"]) if from_email is None else True
    assert result.returncode == (1 if from_email is None else 0), result.stdout + result.stderr


def test_rbac_denying_pods_fails_permitted_naming_the_resource(pagerduty: PagerDutyStack, github: GitHubStack,
                                                               cluster: KubeCluster, tmp_path: Path) -> None:
    # GIVEN a service in namespace "locked", where kmock's RBAC forbids listing (and watching) pods
    config = write_check_config(tmp_path / "config.toml", pagerduty.url, github.url, namespace="locked",
                                selector="app=locked", container_name="locked")
    # WHEN check runs
    result = run_check(config, cluster, tmp_path)
    # THEN Kubernetes is reachable and authenticated but not permitted, naming the denied verbs and the fix
    assert result.returncode == 1, result.stdout + result.stderr
    kube = section(result.stdout, "Kubernetes")
    assert kube["reachable"].startswith("ok") and kube["authenticated"] == "ok"
    assert kube["permitted"].startswith("FAIL: forbidden: list pods, watch pods in namespace locked: ask the "
                                        "cluster admin for a Role")
    assert "checked by trying the requests" in kube["permitted"]
    assert kube["pod"] == "n/a (not checked: listing pods answered HTTP 403)"


def test_a_missing_container_fails_the_pod_row(pagerduty: PagerDutyStack, github: GitHubStack,
                                               cluster: KubeCluster, tmp_path: Path) -> None:
    # GIVEN a mapping whose container name is misspelt
    config = write_check_config(tmp_path / "config.toml", pagerduty.url, github.url, container_name="worker")
    # WHEN check runs
    result = run_check(config, cluster, tmp_path)
    # THEN the pod row names the containers the matching pods do have
    assert result.returncode == 1
    assert section(result.stdout, "Kubernetes")["pod"] == (
        "FAIL: pods match app=worker-app but none has container 'worker' (containers: worker-container): "
        "check [[service]] container")


def test_a_rejected_github_token_fails_authenticated(pagerduty: PagerDutyStack, github: GitHubStack,
                                                     cluster: KubeCluster, tmp_path: Path) -> None:
    # GIVEN a GitHub token the fake does not know
    config = write_check_config(tmp_path / "config.toml", pagerduty.url, github.url)
    # WHEN check runs
    result = run_check(config, cluster, tmp_path, github_token="not-a-real-token-DO-NOT-LEAK")
    # THEN GitHub is reachable but not authenticated, naming the variable; exit 1
    assert result.returncode == 1, result.stdout + result.stderr
    gh = section(result.stdout, "GitHub")
    assert gh["reachable"].startswith("ok")
    assert gh["authenticated"] == "FAIL: GitHub rejected the token (401): check GITHUB_TOKEN"
    assert gh["permitted"].startswith("n/a")


def test_a_dead_prometheus_fails_reachable(pagerduty: PagerDutyStack, github: GitHubStack, cluster: KubeCluster,
                                           tmp_path: Path) -> None:
    # GIVEN a Prometheus URL nothing listens on
    dead = f"http://127.0.0.1:{free_port()}"
    config = write_check_config(tmp_path / "config.toml", pagerduty.url, github.url, prometheus_url=dead)
    # WHEN check runs
    result = run_check(config, cluster, tmp_path)
    # THEN Prometheus is not reachable, naming the setting to check; the metric is n/a; exit 1
    assert result.returncode == 1, result.stdout + result.stderr
    prom = section(result.stdout, "Prometheus")
    assert prom["reachable"].startswith(f"FAIL: cannot reach Prometheus at {dead.removeprefix('http://')}")
    assert "check [prometheus] url" in prom["reachable"]
    assert prom["metric"] == "n/a (not checked: Prometheus is unreachable)"


def test_a_config_error_is_one_line_with_file_line_and_key(tmp_path: Path) -> None:
    # GIVEN a config whose [[service]] misspells selector
    config = write_check_config(tmp_path / "config.toml", "http://127.0.0.1:9", "http://127.0.0.1:9")
    text = config.read_text(encoding="utf-8").replace("selector =", "selecter =")
    config.write_text(text, encoding="utf-8")
    line = next(n for n, row in enumerate(text.splitlines(), start=1) if row.startswith("selecter"))
    # WHEN check runs
    result = run_cli("check", "--config", str(config), tmp_path=tmp_path)
    # THEN it exits 2 with one line naming the file, the line and the key
    assert f"{config}:{line}: service[0].selecter: unknown key" in assert_one_line_error(result)
