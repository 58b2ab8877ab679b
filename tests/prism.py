"""Run Stoplight Prism in front of our fakes so every request and response is checked against the
vendor's own OpenAPI description (TESTING.md, "Prism with the official specs").

Prism is an npm package, installed once into ``<repo>/.cache/prism`` (git-ignored) by
``.ci/install-prism`` or, failing that, by :func:`find_prism` on first use. The specs live outside
the repository in ``$INCIDENT_TUI_SPECS`` (default ``<repo>/../shared/specs``).
"""

from __future__ import annotations

import json
import os
import re
import selectors
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
"""The repository."""
PRISM_VERSION = "5.16.0"
"""The pinned ``@stoplight/prism-cli``; keep in step with ``.ci/install-prism``."""
PRISM_PREFIX = ROOT / ".cache" / "prism"
"""npm prefix Prism is installed into."""
PRISM_BIN = PRISM_PREFIX / "node_modules" / ".bin" / "prism"
"""The Prism executable."""
PAGERDUTY_SPEC = "pagerduty-rest-openapiv3.json"
"""File name of PagerDuty's REST API description in the specs directory."""
GITHUB_SPEC = "github-rest-subset.json"
"""File name of the subset of GitHub's REST API description in the specs directory."""
SPEC_SOURCES = {
    PAGERDUTY_SPEC: "https://github.com/PagerDuty/api-schema (reference/REST/openapiv3.json)",
    GITHUB_SPEC: "npm @octokit/openapi (the paths incident-tui uses, from api.github.com.json)",
}
"""Where each spec comes from, for the skip message."""
READY_LINE = "Prism is listening"
"""What Prism prints once it accepts connections."""


class PrismUnavailable(RuntimeError):
    """Prism or a spec cannot be found or installed; ``str()`` says how to get it."""


def specs_dir() -> Path:
    """``$INCIDENT_TUI_SPECS``, else ``<repo>/../shared/specs``."""
    return Path(os.environ.get("INCIDENT_TUI_SPECS") or ROOT.parent / "shared" / "specs")


def spec_path(name: str) -> Path:
    """The path of one vendor spec.

    Raises:
        PrismUnavailable: The spec is not there; the message names where to get it.
    """
    path = specs_dir() / name
    if not path.is_file():
        raise PrismUnavailable(
            f"{path} is missing: download it from {SPEC_SOURCES.get(name, 'the vendor')} "
            f"into {specs_dir()} (or point INCIDENT_TUI_SPECS at its directory)")
    return path


def find_prism() -> Path:
    """The Prism executable, installing the pinned version with npm when it is missing.

    Raises:
        PrismUnavailable: npm is missing or the install failed.
    """
    if PRISM_BIN.exists():
        return PRISM_BIN
    npm = shutil.which("npm")
    if npm is None:
        raise PrismUnavailable("npm is not installed: install Node.js, then run .ci/install-prism")
    PRISM_PREFIX.mkdir(parents=True, exist_ok=True)
    result = subprocess.run(
        [npm, "install", "--prefix", str(PRISM_PREFIX), "--no-audit", "--no-fund",
         f"@stoplight/prism-cli@{PRISM_VERSION}"],
        capture_output=True, text=True, timeout=600, check=False, env={**os.environ, "SCARF_ANALYTICS": "false"},
    )
    if result.returncode != 0 or not PRISM_BIN.exists():
        raise PrismUnavailable(f"npm could not install Prism {PRISM_VERSION}: {result.stderr[-2000:]}")
    return PRISM_BIN


# -- errata of the official PagerDuty description ---------------------------------------------
# Each fix makes the spec describe what the real API does; without them Prism rejects genuine
# PagerDuty payloads. A fix is applied only while the bug is still present upstream.

def _fix_acknowledge_log_entry(spec: dict[str, Any]) -> bool:
    """``AcknowledgeLogEntry`` narrows ``type`` to ``acknowledgement_log_entry``, which its own base
    ``LogEntry`` does not allow; the API sends ``acknowledge_log_entry``. No acknowledgement could
    ever validate."""
    part = spec["components"]["schemas"]["AcknowledgeLogEntry"]["allOf"][1]["properties"]["type"]
    if part.get("enum") != ["acknowledgement_log_entry"]:
        return False
    part["enum"] = ["acknowledge_log_entry"]
    return True


def _fix_channel_one_of(spec: dict[str, Any]) -> bool:
    """``Channel`` is a ``oneOf`` of five variants with no discriminating required property, so
    every real channel (``{"type": "api", ...}``) matches several and fails ``oneOf``."""
    channel = spec["components"]["schemas"]["Channel"]
    if "oneOf" not in channel:
        return False
    channel["anyOf"] = channel.pop("oneOf")
    return True


def _fix_from_header_on_writes(spec: dict[str, Any]) -> bool:
    """The spec makes ``From`` required on writes, but only account-level keys need it (a user key
    implies the user). Our fake enforces the real rule, so the client's handling of the API's own
    400 is what gets tested."""
    changed = False
    for path, method in (("/incidents/{id}", "put"), ("/incidents/{id}/notes", "post")):
        operation = spec["paths"][path][method]
        params = operation["parameters"]
        for index, param in enumerate(params):
            if param.get("$ref") == "#/components/parameters/from_header":
                params[index] = {"$ref": "#/components/parameters/optional_from_header"}
                changed = True
    return changed


PAGERDUTY_ERRATA: tuple[Callable[[dict[str, Any]], bool], ...] = (
    _fix_acknowledge_log_entry, _fix_channel_one_of, _fix_from_header_on_writes,
)
"""Fixes applied to PagerDuty's description before Prism loads it."""


def patched_spec(source: Path, destination: Path,
                 errata: tuple[Callable[[dict[str, Any]], bool], ...]) -> tuple[Path, list[str]]:
    """Copy ``source`` to ``destination`` (outside the repository) with ``errata`` applied.

    Returns:
        The patched file and the names of the fixes that were needed.
    """
    spec = json.loads(source.read_text(encoding="utf-8"))
    applied = [fix.__name__ for fix in errata if fix(spec)]
    destination.write_text(json.dumps(spec), encoding="utf-8")
    return destination, applied


# -- processes ------------------------------------------------------------------------------

def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago (Prism needs an explicit port)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def stop(process: subprocess.Popen[Any]) -> None:
    """Stop a process this module started, and its children, by its own process group."""
    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
    except ProcessLookupError:
        pass


def start_fake(script: Path, seed: Path, *, timeout: float = 30.0) -> tuple[subprocess.Popen[str], int]:
    """Start a fake server script and wait for its ``READY <port>`` line.

    Returns:
        The process (in its own process group) and the port it listens on.

    Raises:
        RuntimeError: It exited or said nothing within ``timeout`` seconds.
    """
    process = subprocess.Popen(
        [sys.executable, str(script), "--port", "0", "--seed", str(seed)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True,
    )
    assert process.stdout is not None
    selector = selectors.DefaultSelector()
    selector.register(process.stdout, selectors.EVENT_READ)
    deadline = time.monotonic() + timeout
    output = ""
    try:
        while (left := deadline - time.monotonic()) > 0:
            if not selector.select(left):
                break
            line = process.stdout.readline()
            if not line:
                break
            output += line
            if match := re.match(r"READY (\d+)", line):
                return process, int(match.group(1))
    finally:
        selector.close()
    stop(process)
    raise RuntimeError(f"{script.name} did not become ready within {timeout:.0f}s: {output[-2000:]}")


def start_prism(spec: Path, upstream: str, log: Path, *, timeout: float = 90.0) -> tuple[subprocess.Popen[bytes], str]:
    """Start ``prism proxy --errors`` in front of ``upstream`` and wait until it listens.

    Readiness is read from Prism's own output (sent to ``log``: it prints every route at start),
    polling the file until the ready line appears rather than sleeping a fixed time.

    Returns:
        The process and the proxy's base URL.

    Raises:
        PrismUnavailable: Prism cannot be installed.
        RuntimeError: Prism exited or did not listen within ``timeout`` seconds.
    """
    prism = find_prism()
    port = free_port()
    with log.open("wb") as out:
        process = subprocess.Popen(
            [str(prism), "proxy", "--errors", "-h", "127.0.0.1", "-p", str(port), str(spec), upstream],
            stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
            env={**os.environ, "SCARF_ANALYTICS": "false", "NO_COLOR": "1"},
        )
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        text = log.read_text(encoding="utf-8", errors="replace")
        if READY_LINE in text:
            return process, f"http://127.0.0.1:{port}"
        if process.poll() is not None:
            raise RuntimeError(f"Prism exited with {process.returncode}: {text[-2000:]}")
        # Prism offers no readiness pipe or socket to block on; poll its log at a short interval.
        time.sleep(0.1)
    stop(process)
    raise RuntimeError(f"Prism did not listen within {timeout:.0f}s; see {log}")


@contextmanager
def fake_behind_prism(script: Path, seed_data: Any, spec: Path, work: Path) -> Iterator[tuple[str, str]]:
    """Start a stateful fake seeded with ``seed_data`` and ``prism proxy --errors`` in front of it.

    Args:
        script: The fake's script (prints ``READY <port>``).
        seed_data: JSON-able seed, written to ``work/seed.json``.
        spec: The OpenAPI description Prism validates against.
        work: Scratch directory (seed, ``prism.log``).

    Yields:
        ``(prism_url, fake_url)``; both processes are stopped afterwards.

    Raises:
        pytest's failure: Prism cannot start although the spec is present, since then the
        contract tests must run (CI) rather than skip.
    """
    import pytest

    seed = work / "seed.json"
    seed.write_text(json.dumps(seed_data), encoding="utf-8")
    fake, port = start_fake(script, seed)
    fake_url = f"http://127.0.0.1:{port}"
    try:
        try:
            prism, url = start_prism(spec, fake_url, work / "prism.log")
        except PrismUnavailable as error:
            pytest.fail(f"cannot start Prism: {error}")
        try:
            yield url, fake_url
        finally:
            stop(prism)
    finally:
        stop(fake)
