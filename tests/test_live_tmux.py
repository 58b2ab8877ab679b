"""``incident-tui`` live, as a user runs it: a real terminal (tmux, 100x30), the picker, keys, quit.

Against the loopback stacks (PagerDuty and GitHub fakes behind Prism, kmock). Several ads-demo-service
incidents are open, so the picker comes first.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytest.register_assert_rewrite("tests.fixtures_live", "tests.fixtures_github", "tests.fixtures_kubernetes")

from tests.fixtures_github import FIRST_OOM, GitHubStack  # noqa: E402
from tests.fixtures_github import TOKEN as GITHUB_TOKEN  # noqa: E402
from tests.fixtures_kubernetes import KubeCluster  # noqa: E402
from tests.fixtures_live import USER_TOKEN, PagerDutyStack  # noqa: E402
from tests.test_e2e_tmux import Terminal  # noqa: E402
from tests.test_live_cli import SECRETS  # noqa: E402
from tests.test_live_dashboard import move_worker_oom_to, write_config  # noqa: E402

pytest_plugins = ["tests.fixtures_live", "tests.fixtures_github", "tests.fixtures_kubernetes"]
pytestmark = pytest.mark.e2e

if shutil.which("tmux") is None:
    pytest.skip("tmux is not installed (make test installs it)", allow_module_level=True)


def test_live_in_a_real_terminal_picks_acknowledges_and_quits(
    pagerduty: PagerDutyStack, github: GitHubStack, kube: KubeCluster, tmp_path: Path
) -> None:
    # GIVEN the loopback stacks, a config pointing at them and the tokens in the environment
    config = write_config(tmp_path / "config.toml", pagerduty.url, github.url)
    move_worker_oom_to(kube, FIRST_OOM)
    env = {key: value for key, value in os.environ.items() if key not in SECRETS}
    env.update(PAGERDUTY_API_TOKEN=USER_TOKEN, GITHUB_TOKEN=GITHUB_TOKEN, KUBECONFIG=str(kube.kubeconfig),
               XDG_STATE_HOME=str(tmp_path / "state"), TERM="xterm-256color", NO_COLOR="1")
    command = f"{shlex.quote(sys.executable)} -m tui --config {shlex.quote(str(config))}; echo EXITED $?; sleep 60"
    socket = tmp_path / "tmux.sock"
    subprocess.run(["tmux", "-S", str(socket), "new-session", "-d", "-x", "100", "-y", "30", command],
                   check=True, env=env)
    terminal = Terminal(socket)
    try:
        # THEN the picker lists the open incidents first
        terminal.wait_for("open incidents: Enter opens one")
        # WHEN the first (newest) is opened
        terminal.keys("Enter")
        # THEN the dashboard shows it, in words, and says it is live
        screen = terminal.wait_for("high urgency")
        assert "!! TRIGGERED" in screen and "| live" in screen
        # WHEN a, y acknowledge it THEN the header says so and PagerDuty received the PUT
        terminal.keys("a")
        terminal.wait_for("Acknowledge incident #")
        terminal.keys("y")
        terminal.wait_for("ok ACKNOWLEDGED")
        puts = [r for r in pagerduty.requests() if r["method"] == "PUT"]
        assert len(puts) == 1
        # WHEN q quits THEN the process exits cleanly and nothing secret was on screen
        final = terminal.screen()
        assert USER_TOKEN not in final and GITHUB_TOKEN not in final
        terminal.keys("q")
        terminal.wait_for("EXITED 0")
    finally:
        subprocess.run(["tmux", "-S", str(socket), "kill-server"], capture_output=True)
