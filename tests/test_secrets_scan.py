"""No token ever leaves the process: every output of the live flow is scanned for the test credentials.

The credentials are recognisable (``...DO-NOT-LEAK``): the PagerDuty user key, the GitHub token and
the kubeconfig user's bearer token. The live flow runs on the loopback upstreams (PagerDuty and
GitHub fakes behind Prism, kmock with a kubeconfig holding the bearer token) and every place a token
could surface is read back: the screen of each view (including error notifications after a 401),
the saved report, every file in the state directory, the debug log, the stdout and stderr of
``incident-tui report`` and ``incident-tui check`` run as subprocesses, and the text, repr and
traceback of each raised SourceError with its whole ``__cause__``/``__context__`` chain.
"""

from __future__ import annotations

import html
import logging
import re
import traceback
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

pytest.register_assert_rewrite("tests.fixtures_live", "tests.fixtures_github", "tests.fixtures_kubernetes")

from analysis.model import IncidentStatus
from tests.conftest import wait_until
from tests.fixtures_github import CULPRIT_MESSAGE, FIRST_OOM, GitHubStack
from tests.fixtures_github import TOKEN as GITHUB_TOKEN
from tests.fixtures_kubernetes import (
    LOCKED,
    KubeCluster,
    api_client_for,
    write_kubeconfig,
)
from tests.fixtures_kubernetes import TOKEN as KUBE_TOKEN
from tests.fixtures_live import ADS_NAME, OPEN_INCIDENT, USER_TOKEN, PagerDutyStack
from tests.prism import free_port
from tests.test_live_cli import run_cli
from tests.test_live_dashboard import NO_THROTTLE, move_worker_oom_to, write_config
from tui.app import IncidentApp
from tui.config import load_config
from tui.live import build_live_sources, close_sources, pick_incident, service_mapping
from tui.logsetup import (
    Redactor,
    configure_debug_log,
    known_secrets,
    redacting_error_console,
    remove_debug_log,
    report_unexpected,
)
from tui.screens.modals import ConfirmScreen
from tui.screens.pull_request import PrPreviewScreen, PrViewScreen
from tui.screens.report import ReportScreen
from tui.sources.base import SourceError

pytest_plugins = ["tests.fixtures_live", "tests.fixtures_github", "tests.fixtures_kubernetes"]

SECRETS = (USER_TOKEN, GITHUB_TOKEN, KUBE_TOKEN)
"""The credentials the flow is given."""
FRAGMENTS = (*SECRETS, "9f8e7d6c5b4a", "TESTTOKEN0123456789", "5e4d3c2b1a", "DO-NOT-LEAK")
"""Distinctive pieces too, so a token cut by wrapping, truncation or styling is still caught."""


def leaks(text: str) -> list[str]:
    """The secrets or secret fragments found in ``text``."""
    return [fragment for fragment in FRAGMENTS if fragment in text]


def assert_clean(where: str, text: str) -> None:
    """Fail naming ``where`` and the surrounding text when any secret fragment is in ``text``."""
    found = leaks(text)
    if found:
        at = text.index(found[0])
        raise AssertionError(f"{where} leaks {found}: ...{text[max(0, at - 120):at + 80]!r}...")


def screen_text(app: Any) -> str:
    """What the terminal shows: the screenshot's text, tags stripped, in drawing order."""
    svg = app.export_screenshot()
    return html.unescape(re.sub(r"<[^>]+>", "", svg)).replace("\xa0", " ")


def scan_tree(root: Path) -> list[Path]:
    """Assert that no file under ``root`` (names and contents) holds a secret; returns the files read."""
    files = sorted(p for p in root.rglob("*") if p.is_file())
    for path in files:
        assert_clean(f"file name {path}", str(path))
        assert_clean(str(path), path.read_bytes().decode("utf-8", "replace"))
    return files


def error_chain_text(error: BaseException) -> str:
    """``str``, ``repr`` and the formatted traceback of an error and everything it chains to."""
    parts, seen, current = [], set(), error
    stack: list[BaseException] = [error]
    while stack:
        current = stack.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        parts += [str(current), repr(current), *map(str, current.args)]
        stack += [e for e in (current.__cause__, current.__context__) if e is not None]
    parts.append("".join(traceback.format_exception(error)))
    return "\n".join(parts)


def test_the_scanner_and_the_redactor_can_fail() -> None:
    # GIVEN text with each secret THEN the scanner finds it (so a clean scan means something)
    for secret in SECRETS:
        assert leaks(f"header {secret} end") and leaks(secret[:-3])
    # AND the redactor masks literal secrets, header values and well-known shapes
    redactor = Redactor(SECRETS)
    masked = redactor.redact(f"Authorization: Token token={USER_TOKEN} {{'Authorization': 'Bearer abc.def-123'}} "
                             f"token={KUBE_TOKEN} ghp_{'a1' * 12} password: hunter2x")
    assert leaks(masked) == [] and "hunter2x" not in masked and "abc.def-123" not in masked
    assert masked.count("***") == 5 and "Authorization: Token token=***" in masked


@pytest.mark.parametrize("command", ["live", "report", "demo", "check"])
def test_the_commands_take_a_debug_log(command: str, tmp_path: Path) -> None:
    # GIVEN the CLI parser WHEN a command is given --debug-log THEN it is parsed as a path
    from tui.cli import build_parser

    extra = ["--incident", "Q1"] if command == "report" else []
    args = build_parser(only=command).parse_args([command, *extra, "--debug-log", str(tmp_path / "d.log")])
    assert args.debug_log == tmp_path / "d.log"


def test_an_unexpected_error_prints_a_redacted_traceback(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # GIVEN the tokens in the environment and a kubeconfig with the bearer token
    monkeypatch.setenv("PAGERDUTY_API_TOKEN", USER_TOKEN)
    monkeypatch.setenv("GITHUB_TOKEN", GITHUB_TOKEN)
    monkeypatch.setenv("KUBECONFIG", str(write_kubeconfig(tmp_path / "kubeconfig", "http://127.0.0.1:9")))
    assert set(SECRETS) <= set(known_secrets())
    # AND an error whose message and cause quote every token (as a careless library might)
    try:
        try:
            raise ValueError(f"headers {{'Authorization': 'Token token={USER_TOKEN}'}} bearer {KUBE_TOKEN}")
        except ValueError as inner:
            raise RuntimeError(f"request failed with {GITHUB_TOKEN}") from inner
    except RuntimeError as error:
        # WHEN it reaches the CLI's last line of defence
        out = tmp_path / "stderr.txt"
        with out.open("w", encoding="utf-8") as stream:
            code = report_unexpected(error, "live", stream)
    # THEN the traceback is printed, both exceptions in it, with every token masked
    text = out.read_text(encoding="utf-8")
    assert code == 1 and "RuntimeError: request failed with ***" in text and "ValueError" in text
    assert_clean("the unexpected-error traceback", text)


def test_a_crashed_apps_traceback_with_locals_is_redacted(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # GIVEN the tokens in the environment and the console live mode hands Textual for crash reports
    from rich.traceback import Traceback

    monkeypatch.setenv("PAGERDUTY_API_TOKEN", USER_TOKEN)
    monkeypatch.setenv("GITHUB_TOKEN", GITHUB_TOKEN)
    out = tmp_path / "stderr.txt"
    with out.open("w", encoding="utf-8") as stream:
        console = redacting_error_console(stream, width=200)

        # WHEN a frame holding the request headers crashes and Textual prints it, locals shown
        def send() -> None:
            headers = {"Authorization": f"Token token={USER_TOKEN}", "X-GitHub": GITHUB_TOKEN}  # noqa: F841
            raise RuntimeError("upstream exploded")

        try:
            send()
        except RuntimeError:
            console.print(Traceback(show_locals=True, width=None, locals_max_length=5))
    # THEN the locals are printed (the header is there) with the tokens masked
    text = out.read_text(encoding="utf-8")
    assert "upstream exploded" in text and "'Authorization'" in text and "***" in text
    assert_clean("the crash traceback", text)


async def test_the_live_flow_shows_writes_and_logs_no_token(
    pagerduty: PagerDutyStack, github: GitHubStack, kube: KubeCluster, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # GIVEN the loopback upstreams, the tokens in the environment, the kubeconfig with the bearer token
    monkeypatch.setenv("PAGERDUTY_API_TOKEN", USER_TOKEN)
    monkeypatch.setenv("GITHUB_TOKEN", GITHUB_TOKEN)
    monkeypatch.setenv("KUBECONFIG", str(kube.kubeconfig))
    assert KUBE_TOKEN in kube.kubeconfig.read_text(encoding="utf-8")
    config = load_config(write_config(tmp_path / "config.toml", pagerduty.url, github.url))
    move_worker_oom_to(kube, FIRST_OOM)
    state = tmp_path / "state"
    # AND the debug log open, as --debug-log opens it
    debug_log = tmp_path / "debug.log"
    handler = configure_debug_log(debug_log)
    screens: dict[str, str] = {}
    kube_api = kube.client()  # from the kubeconfig file, bearer token included
    sources = build_live_sources(config, incident_service=ADS_NAME, read_only=False, state_dir=state,
                                 api_client=kube_api, github_options=NO_THROTTLE)
    try:
        # AND a library that logs a request header and a traceback holding a token
        logging.getLogger("tests.careless").debug("GET /x headers={'Authorization': 'Token token=%s'}", USER_TOKEN)
        try:
            raise ConnectionError(f"refused, Authorization: Bearer {KUBE_TOKEN}")
        except ConnectionError:
            logging.getLogger("tests.careless").exception("request with %s failed", GITHUB_TOKEN)
        incident = await pick_incident(sources.incidents, OPEN_INCIDENT)
        app = IncidentApp(sources, incident_id=incident.id, workload_interval=0.2, incident_interval=0.3)
        async with app.run_test(size=(160, 50)) as pilot:
            screen = pilot.app.screen
            # WHEN the dashboard has read every source and investigated
            await wait_until(pilot, lambda: screen.investigation is not None, timeout=90, what="the investigation")
            assert screen.investigation.suspects[0].commit.subject == CULPRIT_MESSAGE
            await wait_until(pilot, lambda: CULPRIT_MESSAGE in screen_text(pilot.app), what="the suspects drawn")
            for pane in "1234":
                await pilot.press(pane)
                await pilot.pause()
                screens[f"pane {pane}"] = screen_text(pilot.app)
            # AND the killed run's logs are opened (a kubernetes read behind the bearer token)
            await pilot.press("l")
            await pilot.pause(0.5)
            screens["previous logs"] = screen_text(pilot.app)
            await pilot.press("escape")
            await wait_until(pilot, lambda: pilot.app.screen is screen, what="the dashboard")

            # AND PagerDuty rejects the key (401) when the incident is acknowledged
            pagerduty.control(fail={"status": 401, "count": 50})
            await pilot.press("a")
            await wait_until(pilot, lambda: isinstance(pilot.app.screen, ConfirmScreen), what="the confirm modal")
            await pilot.press("y")
            shown = await wait_until(pilot, lambda: "rejected the token (401)" in (t := screen_text(pilot.app)) and t,
                                     what="the 401 notification")
            screens["PagerDuty 401"] = shown
            assert "PAGERDUTY_API_TOKEN" in shown and screen.incident.status is IncidentStatus.TRIGGERED
            pagerduty.control(reset=True)

            # AND the report is generated and shown
            await pilot.press("r")
            await wait_until(pilot, lambda: isinstance(pilot.app.screen, ReportScreen), timeout=60, what="the report")
            screens["report"] = await wait_until(
                pilot, lambda: incident.title in (t := screen_text(pilot.app)) and "Report" in t and t, what="the report drawn")
            await pilot.press("escape")
            await wait_until(pilot, lambda: pilot.app.screen is screen, what="the dashboard")

            # AND GitHub rejects the token (401) when the fix PR is created
            await pilot.press("p")
            await wait_until(pilot, lambda: isinstance(pilot.app.screen, PrPreviewScreen), timeout=30, what="the preview")
            screens["PR preview"] = screen_text(pilot.app)
            github.control(fail={"status": 401, "count": 50})
            await pilot.press("y")
            # (read from the app's notifications: posted as the preview closes, this toast is not drawn
            # on the dashboard; see the report to the lead)
            failed_pr = await wait_until(pilot, lambda: [n for n in pilot.app._notifications if n.title == "Fix PR failed"],
                                         timeout=60, what="the GitHub 401 notification")
            shown = "\n".join(f"{n.title}: {n.message}" for n in failed_pr) + screen_text(pilot.app)
            assert "rejected the token (401)" in shown and "GITHUB_TOKEN" in shown
            screens["GitHub 401"] = shown
            github.control(reset=True)
            # AND then it is created for real
            await wait_until(pilot, lambda: pilot.app.screen is screen, what="the dashboard")
            await pilot.press("p")
            await wait_until(pilot, lambda: isinstance(pilot.app.screen, PrPreviewScreen), timeout=30, what="the preview")
            await pilot.press("y")
            await wait_until(pilot, lambda: isinstance(pilot.app.screen, PrViewScreen), timeout=60, what="the PR view")
            screens["PR view"] = screen_text(pilot.app)
            report_path = screen.report_path
    finally:
        await close_sources(sources)
        kube_api.close()
        remove_debug_log(handler)
    # THEN no screen showed a token (and each was really captured: the views' own words are there)
    assert all(CULPRIT_MESSAGE in screens[f"pane {pane}"] for pane in "1234")
    for name, text in screens.items():
        assert_clean(f"the screen ({name})", text)
    # AND neither the report nor any file in the state dir (reports, audit log, caches) holds one
    assert report_path is not None and report_path.is_relative_to(state)
    assert report_path in scan_tree(state)
    # AND the debug log recorded every upstream's requests and the careless lines, all masked
    log = debug_log.read_text(encoding="utf-8")
    assert f"/incidents/{OPEN_INCIDENT}" in log and "/git/blobs" in log and "/api/v1/namespaces/default/pods" in log
    assert "headers={'Authorization': 'Token token=***'}" in log and "Bearer ***" in log
    assert "request with *** failed" in log and "Traceback" in log
    # AND the dashboard's start-up steps, with their times, for a slow start to be explained
    assert re.search(r"incident_tui\.startup: dashboard mounted after \d+\.\d{3} s", log)
    assert "incident_tui.startup: first workload snapshot (memory and state) after" in log
    assert_clean("the debug log", log)


async def test_raised_source_errors_and_their_chains_hold_no_token(
    pagerduty: PagerDutyStack, github: GitHubStack, kube: KubeCluster, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # GIVEN the tokens and the kubeconfig, and sources built as live mode builds them
    monkeypatch.setenv("PAGERDUTY_API_TOKEN", USER_TOKEN)
    monkeypatch.setenv("GITHUB_TOKEN", GITHUB_TOKEN)
    monkeypatch.setenv("KUBECONFIG", str(kube.kubeconfig))
    config = load_config(write_config(tmp_path / "config.toml", pagerduty.url, github.url))
    kube_api = kube.client()
    sources = build_live_sources(config, incident_service=ADS_NAME, read_only=False, state_dir=tmp_path / "state",
                                 api_client=kube_api, github_options=NO_THROTTLE)
    errors: dict[str, SourceError] = {}
    try:
        # WHEN PagerDuty answers 401, GitHub answers 401, and Kubernetes forbids a namespace (403)
        pagerduty.control(fail={"status": 401, "count": 1})
        with pytest.raises(SourceError) as raised:
            await sources.incidents.incident(OPEN_INCIDENT)
        errors["PagerDuty 401"] = raised.value
        github.control(fail={"status": 401, "count": 5})
        with pytest.raises(SourceError) as raised:
            sources.code.commits(FIRST_OOM - timedelta(days=1), FIRST_OOM)
        errors["GitHub 401"] = raised.value
        from tui.sources.kubernetes import KubernetesWorkloadSource

        # (built from the kubeconfig file: the kubernetes package reads $KUBECONFIG once, at import)
        locked_api = api_client_for(kube.kubeconfig)
        locked = KubernetesWorkloadSource(LOCKED, api_client=locked_api, watch=False)
        try:
            with pytest.raises(SourceError) as raised:
                locked.container_state()
            errors["Kubernetes 403"] = raised.value
        finally:
            locked.close()
            locked_api.close()
        # AND the cluster is unreachable (the kubeconfig still holds the bearer token)
        gone = write_kubeconfig(tmp_path / "gone-kubeconfig", f"http://127.0.0.1:{free_port()}")
        gone_api = api_client_for(gone)
        unreachable = KubernetesWorkloadSource(service_mapping(config, ADS_NAME), api_client=gone_api, watch=False)
        try:
            with pytest.raises(SourceError) as raised:
                unreachable.container_state()
            errors["Kubernetes unreachable"] = raised.value
        finally:
            unreachable.close()
            gone_api.close()
    finally:
        await close_sources(sources)
        kube_api.close()
    # THEN each error says what failed
    assert "401" in str(errors["PagerDuty 401"]) and "401" in str(errors["GitHub 401"])
    assert "forbidden: cannot list pods in namespace locked" in str(errors["Kubernetes 403"])
    assert "cannot reach" in str(errors["Kubernetes unreachable"])
    # AND neither it, its repr, its cause/context chain nor its formatted traceback holds a token
    for name, error in errors.items():
        assert_clean(f"the {name} error chain", error_chain_text(error))


def test_cli_report_and_check_print_and_log_no_token(
    pagerduty: PagerDutyStack, github: GitHubStack, kube: KubeCluster, tmp_path: Path
) -> None:
    # GIVEN a config on the loopback stacks, the tokens and the kubeconfig in the environment
    config = write_config(tmp_path / "config.toml", pagerduty.url, github.url)
    move_worker_oom_to(kube, FIRST_OOM)
    env = {"PAGERDUTY_API_TOKEN": USER_TOKEN, "GITHUB_TOKEN": GITHUB_TOKEN, "KUBECONFIG": str(kube.kubeconfig)}
    debug_log, state = tmp_path / "debug.log", tmp_path / "state"
    markdown, summary = tmp_path / "report.md", tmp_path / "report.json"
    # WHEN report runs with a debug log
    report = run_cli("report", "--incident", OPEN_INCIDENT, "--config", str(config), "--debug-log", str(debug_log),
                     "-o", str(markdown), "--json", str(summary), tmp_path=tmp_path, **env)
    # AND check runs (the debug log given by the environment variable this time)
    check = run_cli("check", "--config", str(config), tmp_path=tmp_path, INCIDENT_TUI_DEBUG_LOG=str(debug_log), **env)
    # AND both run again while PagerDuty and GitHub reject the credentials
    pagerduty.control(fail={"status": 401, "count": 100})
    github.control(fail={"status": 401, "count": 100})
    failed_report = run_cli("report", "--incident", OPEN_INCIDENT, "--config", str(config),
                            "--debug-log", str(debug_log), tmp_path=tmp_path, **env)
    failed_check = run_cli("check", "--config", str(config), "--debug-log", str(debug_log), tmp_path=tmp_path, **env)
    # THEN each did what it should
    assert report.returncode == 0, report.stderr
    assert CULPRIT_MESSAGE in markdown.read_text(encoding="utf-8")
    assert check.returncode == 0, check.stdout + check.stderr
    assert failed_report.returncode == 2 and "401" in failed_report.stderr
    assert failed_check.returncode == 1 and "401" in failed_check.stdout
    # AND no output of any run holds a token
    for name, run in {"report": report, "check": check, "failed report": failed_report,
                      "failed check": failed_check}.items():
        assert_clean(f"{name} stdout", run.stdout)
        assert_clean(f"{name} stderr", run.stderr)
    # AND neither do the files they wrote: the report, the summary, the state dir, the debug log
    assert_clean("report.md", markdown.read_text(encoding="utf-8"))
    assert_clean("report.json", summary.read_text(encoding="utf-8"))
    assert scan_tree(state)  # the saved report at least
    log = debug_log.read_text(encoding="utf-8")
    starts = [line for line in log.splitlines() if "debug log started" in line]
    readers = [line for line in starts if "kubernetes_worker" in line]
    # Four commands, and the Kubernetes reader process of each report logging to the same file
    assert len(starts) - len(readers) == 4 and len(readers) == 2, starts
    assert f"/incidents/{OPEN_INCIDENT}" in log
    assert "/api/v1/namespaces/default/pods" in log and "401" in log
    assert_clean("the debug log", log)
    assert debug_log.stat().st_mode & 0o077 == 0  # and it is private
