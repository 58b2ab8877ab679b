"""A config file others can read must not hold secrets: a warning names the file, its mode and the fix.

The warning comes back from :func:`tui.config.load_config` (``Config.warnings``, or
``ConfigError.warnings`` when the file is also wrong); ``live`` and ``report`` print it on stderr
and ``check`` shows it as a WARN row. No warning ever quotes the secret.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.test_config import VALID
from tests.test_live_cli import run_cli
from tui.config import ConfigError, load_config

SECRET = "ghp_abcdefghijklmnopqrstuvwxyz0123456789"
"""A GitHub-shaped token."""


def write(tmp_path: Path, text: str, mode: int) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    path.chmod(mode)
    return path


@pytest.mark.parametrize(
    ("change", "what"),
    [
        (('api_url = "https://api.github.com"', f'api_url = "https://api.github.com"\n# token = "{SECRET}"'),
         "a key named 'token'"),
        (('context = "minikube"', f'context = "{SECRET}"'), "a value that looks like a token"),
        (('context = "minikube"', 'context = "Zx8Qw2Lk9Vb4Nm7Rt5Yp3Hj6"'), "a value that looks like a token"),
        (('url = "http://prometheus.monitoring:9090"', 'url = "http://admin:hunter2@prometheus:9090"'),
         "a URL with a password"),
    ],
)
@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604])
def test_a_readable_file_holding_a_secret_gets_a_warning(tmp_path: Path, change, what, mode: int) -> None:
    # GIVEN a valid config holding something secret-like, readable by group or others
    path = write(tmp_path, VALID.replace(*change), mode)
    # WHEN it is loaded
    config = load_config(path)
    # THEN one warning names the file, what it holds, the mode and the fix, without quoting the secret
    (warning,) = config.warnings
    assert str(path) in warning and what in warning and f"mode {mode:04o}" in warning
    assert f"chmod 600 {path}" in warning
    assert SECRET not in warning and "hunter2" not in warning and "Zx8Qw2" not in warning


def test_who_can_read_is_named(tmp_path: Path) -> None:
    # GIVEN the same secret-holding file, readable by the group only and then by everyone
    text = VALID.replace('context = "minikube"', f'context = "{SECRET}"')
    # THEN the warning says who can read it
    assert "its group" in load_config(write(tmp_path, text, 0o640)).warnings[0]
    assert "other users" not in load_config(write(tmp_path, text, 0o640)).warnings[0]
    assert "its group and other users" in load_config(write(tmp_path, text, 0o644)).warnings[0]


@pytest.mark.parametrize("mode", [0o600, 0o400, 0o700])
def test_a_private_file_gets_no_warning(tmp_path: Path, mode: int) -> None:
    # GIVEN a secret-holding config only its owner can read
    path = write(tmp_path, VALID.replace('context = "minikube"', f'context = "{SECRET}"'), mode)
    # THEN no warning
    assert load_config(path).warnings == ()


@pytest.mark.parametrize("context", ["minikube", "gke_my-project-123_us-central1-a_Prod1",
                                     "arn:aws:eks:eu-west-1:123456789012:cluster/Prod", "kind-kind"])
def test_a_readable_file_without_secrets_gets_no_warning(tmp_path: Path, context: str) -> None:
    # GIVEN the README's config (URLs, names, selectors, globs) with a real-world context name, world-readable
    path = write(tmp_path, VALID.replace('context = "minikube"', f'context = "{context}"'), 0o644)
    # THEN no warning: nothing in it looks like a credential
    assert load_config(path).warnings == ()


def test_the_environment_token_pasted_into_the_file_is_recognised(tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    # GIVEN PAGERDUTY_API_TOKEN's value (short, not token-shaped) pasted as a value into a readable file
    monkeypatch.setenv("PAGERDUTY_API_TOKEN", "y_shortkey")
    path = write(tmp_path, VALID.replace('from_email = "oncall@example.com"', 'from_email = "y_shortkey"'), 0o644)
    # THEN it is recognised as a token
    assert "looks like a token" in load_config(path).warnings[0]


def test_a_wrong_file_still_carries_the_warning(tmp_path: Path) -> None:
    # GIVEN a readable config with a secret key, which is also an unknown key (an error)
    path = write(tmp_path, VALID.replace('from_email = "oncall@example.com"', f'api_token = "{SECRET}"'), 0o644)
    # WHEN loaded THEN the error says secrets come from the environment, and carries the warning
    with pytest.raises(ConfigError) as raised:
        load_config(path)
    assert "secrets come from the environment" in str(raised.value)
    (warning,) = raised.value.warnings
    assert "a key named 'api_token' (line 3)" in warning and f"chmod 600 {path}" in warning


def test_commands_show_the_warning(tmp_path: Path) -> None:
    # GIVEN a world-readable config whose Prometheus URL holds a password (every upstream on a closed port)
    offline = re.sub(r'(api_url|url) = "[^"]+"', r'\1 = "http://127.0.0.1:9"', VALID)
    path = write(tmp_path, offline.replace('url = "http://127.0.0.1:9"\n\n[[service]]',
                                           'url = "http://admin:hunter2secret@127.0.0.1:9"\n\n[[service]]'), 0o644)
    assert "hunter2secret" in path.read_text(encoding="utf-8")
    # WHEN report and check run with it
    report = run_cli("report", "--incident", "Q1", "--config", str(path), tmp_path=tmp_path)
    check = run_cli("check", "--config", str(path), tmp_path=tmp_path)
    # THEN report warns on stderr before its error (the missing token), and check shows a WARN row
    warning = f"incident-tui report: warning: {path} holds a URL with a password (line 12)"
    assert report.stderr.startswith(warning) and "chmod 600" in report.stderr, report.stderr
    assert report.returncode == 2 and "PAGERDUTY_API_TOKEN is not set" in report.stderr
    assert f"Config ({path})" in check.stdout and re.search(r"permissions +WARN: ", check.stdout), check.stdout
    assert f"chmod 600 {path}" in check.stdout
    # AND neither prints the password
    assert "hunter2secret" not in report.stdout + report.stderr + check.stdout + check.stderr
    # AND after chmod 600 the warning is gone
    path.chmod(0o600)
    quiet = run_cli("report", "--incident", "Q1", "--config", str(path), tmp_path=tmp_path)
    assert "warning" not in quiet.stderr and "PAGERDUTY_API_TOKEN is not set" in quiet.stderr
