"""``incident-tui live`` and ``incident-tui report`` as a user runs them: subprocesses, real exit codes.

Mistakes (config, tokens) are one line on stderr and exit code 2, never a traceback; the headless
report runs against the loopback stacks (PagerDuty and GitHub fakes behind Prism, kmock).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.register_assert_rewrite("tests.fixtures_live", "tests.fixtures_github", "tests.fixtures_kubernetes")

from tests.fixtures_github import CULPRIT_MESSAGE, FIRST_OOM, GitHubStack
from tests.fixtures_github import TOKEN as GITHUB_TOKEN
from tests.fixtures_kubernetes import WORKER_POD, KubeCluster
from tests.fixtures_live import (
    NO_CHANGES_INCIDENT,
    OPEN_INCIDENT,
    USER_TOKEN,
    PagerDutyStack,
)
from tests.test_live_dashboard import move_worker_oom_to, write_config

pytest_plugins = ["tests.fixtures_live", "tests.fixtures_github", "tests.fixtures_kubernetes"]

SECRETS = ("PAGERDUTY_API_TOKEN", "GITHUB_TOKEN", "INCIDENT_TUI_CONFIG", "KUBECONFIG")
"""Variables the tests set themselves (never inherited from the developer's shell)."""


def run_cli(*args: str, tmp_path: Path, timeout: float = 180, **env: str) -> subprocess.CompletedProcess[str]:
    """Run ``incident-tui`` (``python -m tui``) with a clean environment plus ``env``."""
    clean = {key: value for key, value in os.environ.items() if key not in SECRETS}
    clean.update(XDG_STATE_HOME=str(tmp_path / "state"), XDG_CONFIG_HOME=str(tmp_path / "xdg-config"), **env)
    return subprocess.run([sys.executable, "-m", "tui", *args], capture_output=True, text=True, env=clean, check=False,
                          timeout=timeout, cwd=tmp_path)


def assert_one_line_error(result: subprocess.CompletedProcess[str]) -> str:
    """Exit code 2 with one line on stderr and no traceback; returns that line."""
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


@pytest.mark.parametrize("command", [["live"], ["report", "--incident", OPEN_INCIDENT], []])
def test_a_missing_config_file_names_its_path(command: list[str], tmp_path: Path) -> None:
    # GIVEN a config path that does not exist
    missing = tmp_path / "nowhere" / "config.toml"
    # WHEN live, report or the bare command runs with it
    result = run_cli(*command, "--config", str(missing), tmp_path=tmp_path)
    # THEN it exits 2 with the path in the one-line message
    assert str(missing) in assert_one_line_error(result)


def test_a_typo_in_the_config_names_file_line_and_key(tmp_path: Path) -> None:
    # GIVEN a config whose [[service]] misspells selector (on line 7)
    config = write_config(tmp_path / "config.toml", "http://127.0.0.1:9", "http://127.0.0.1:9")
    text = config.read_text(encoding="utf-8").replace("selector =", "selecter =")
    config.write_text(text, encoding="utf-8")
    line = next(n for n, row in enumerate(text.splitlines(), start=1) if row.startswith("selecter"))
    # WHEN live runs with it
    result = run_cli("live", "--config", str(config), tmp_path=tmp_path, PAGERDUTY_API_TOKEN="x", GITHUB_TOKEN="y")
    # THEN the message names the file, the line and the key
    assert f"{config}:{line}: service[0].selecter: unknown key" in assert_one_line_error(result)


@pytest.mark.parametrize("command", [["live"], ["report"], []])
def test_a_missing_pagerduty_token_is_named(command: list[str], tmp_path: Path) -> None:
    # GIVEN a valid config and a GitHub token, but no PagerDuty token
    config = write_config(tmp_path / "config.toml", "http://127.0.0.1:9", "http://127.0.0.1:9")
    # WHEN live, report or the bare command runs (the bare one via the config env var)
    result = run_cli(*command, "--incident", OPEN_INCIDENT, tmp_path=tmp_path, GITHUB_TOKEN="y",
                     INCIDENT_TUI_CONFIG=str(config))
    # THEN it exits 2 naming the variable, before any request
    assert "PAGERDUTY_API_TOKEN is not set" in assert_one_line_error(result)


def test_report_writes_markdown_and_json_from_the_live_stacks(
    pagerduty: PagerDutyStack, github: GitHubStack, kube: KubeCluster, tmp_path: Path
) -> None:
    # GIVEN the loopback stacks, a config pointing at them, and the worker OOM-killed at the GitHub seed's first OOM
    config = write_config(tmp_path / "config.toml", pagerduty.url, github.url)
    move_worker_oom_to(kube, FIRST_OOM)
    markdown, summary = tmp_path / "out" / "report.md", tmp_path / "out" / "report.json"
    markdown.parent.mkdir()
    # WHEN report runs for the open incident
    result = run_cli("report", "--incident", OPEN_INCIDENT, "-o", str(markdown), "--json", str(summary),
                     "--config", str(config), tmp_path=tmp_path, PAGERDUTY_API_TOKEN=USER_TOKEN,
                     GITHUB_TOKEN=GITHUB_TOKEN, KUBECONFIG=str(kube.kubeconfig))
    # THEN it succeeds and the Markdown names the culprit
    assert result.returncode == 0, result.stderr
    assert CULPRIT_MESSAGE in markdown.read_text(encoding="utf-8")
    # AND the Pull Requests section names the PR GitHub says brought the culprit in
    assert "- **PR #**: 42" in markdown.read_text(encoding="utf-8")
    # AND the JSON ranks it first, on the seeded pod's OOM kill
    data = json.loads(summary.read_text(encoding="utf-8"))
    assert data["incident"]["id"] == OPEN_INCIDENT and data["workload"]["pod"] == WORKER_POD
    assert data["suspects"][0]["subject"] == CULPRIT_MESSAGE
    assert [kill["at"] for kill in data["oom_kills"]] == [FIRST_OOM.isoformat()]
    # AND a copy is saved under the XDG state dir, and nothing was written upstream
    assert list((tmp_path / "state" / "incident-tui" / "live" / "reports").glob("incident-3001-*.md"))
    assert pagerduty.requests("PUT") == [] and pagerduty.requests("POST") == []
    assert github.requests("POST") == []
    assert USER_TOKEN not in result.stderr and GITHUB_TOKEN not in result.stderr


def test_an_incident_of_an_unmapped_service_names_the_service(pagerduty: PagerDutyStack, tmp_path: Path) -> None:
    # GIVEN a config that maps only ads-demo-service, and a payments-api incident
    config = write_config(tmp_path / "config.toml", pagerduty.url, "http://127.0.0.1:9")
    # WHEN report runs for the payments incident
    result = run_cli("report", "--incident", NO_CHANGES_INCIDENT, "--config", str(config), tmp_path=tmp_path,
                     PAGERDUTY_API_TOKEN=USER_TOKEN, GITHUB_TOKEN=GITHUB_TOKEN)
    # THEN it exits 2 naming the unmapped service and the config
    line = assert_one_line_error(result)
    assert "'payments-api' is not mapped" in line and str(config) in line


def test_a_service_mapped_by_its_pagerduty_id_is_found(tmp_path) -> None:
    from tests.fixtures_live import ADS_SERVICE
    from tui.config import load_config
    from tui.live import service_mapping

    # GIVEN a mapping that names the PagerDuty service by ID, not by name
    config_path = tmp_path / "config.toml"
    config_path.write_text(
        f'[[service]]\npagerduty_service = "{ADS_SERVICE}"\nnamespace = "default"\nselector = "app=w"\n'
        'container = "c"\nrepository = "o/r"\n[[service]]\npagerduty_service = "other"\nnamespace = "x"\n'
        'selector = "a=b"\ncontainer = "c"\nrepository = "o/x"\n'
    )
    config = load_config(config_path)
    # WHEN an incident of that service (which carries the name and the ID) is matched
    mapping = service_mapping(config, "ads-demo-service", ADS_SERVICE)
    # THEN the ID mapping is used
    assert mapping.pagerduty_service == ADS_SERVICE
