"""``incident-tui check``: test every configured upstream before the first page.

For PagerDuty, each Kubernetes namespace, each GitHub repository and Prometheus (when configured) it
prints whether the service is reachable, accepts the credentials and permits what the dashboard
needs, each ``ok``, ``FAIL: <reason and fix>`` or ``n/a``. Tokens are never printed. Exit code 0
when every check passes, 1 when one fails, 2 when the config itself is wrong (one line on stderr).
"""

from __future__ import annotations

import argparse

from tui.commands.live import add_config_argument, run_reporting_errors


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register the ``check`` sub-command."""
    parser = subparsers.add_parser(
        "check",
        help="check that PagerDuty, Kubernetes, GitHub and Prometheus are reachable, authenticated and permitted",
        description="Test each configured service: reachable, authenticated (PAGERDUTY_API_TOKEN, GITHUB_TOKEN, "
        "the kubeconfig) and permitted (incidents, pods and events, the repository, the memory metric).",
    )
    add_config_argument(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run the checks and print them.

    Returns:
        0 when everything passed, 1 when a check failed, 2 on a config error.
    """
    return run_reporting_errors("check", lambda: _check(args))


async def _check(args: argparse.Namespace) -> int:
    """Load the config, run every check, print the report and the summary line."""
    from tui.checks import exit_code, run_checks, summary
    from tui.config import load_config

    config = load_config(args.config)
    reports = await run_checks(config)
    for report in reports:
        print("\n".join(report.lines()))
    print(summary(reports))
    return exit_code(reports)
