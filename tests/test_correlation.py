"""Ranking suspect commits: the evidence, its weights, the window and the ordering."""

from __future__ import annotations

import difflib
from datetime import datetime, timedelta, timezone

import pytest

from analysis.correlation import (
    WEIGHTS,
    findings_on_changed_lines,
    is_documentation,
    matches_glob,
    rank_commits,
)
from analysis.model import Commit, Deployment, FileChange, FindingKind, LeakFinding, Suspect

FIRST_OOM = datetime(2024, 6, 2, 8, 0, tzinfo=timezone.utc)

QUEUE_V1 = """\
#include <stdlib.h>

void pump(void) {
    while (1) {
        char *slot = malloc(1 << 20);
        consume(slot);
        free(slot);
    }
}
"""
QUEUE_V2 = QUEUE_V1.replace("        free(slot);\n", "")


def _patch(old: str, new: str) -> str:
    """A unified diff of two texts, hunks only (like GitHub's ``patch`` field)."""
    lines = difflib.unified_diff(old.splitlines(), new.splitlines(), lineterm="", n=3)
    return "\n".join(list(lines)[2:]) + "\n"


def _commit(label: str, hours_before: float, *files: tuple[str, str, str]) -> Commit:
    """A commit ``hours_before`` the first OOM changing ``(path, old, new)`` files."""
    when = FIRST_OOM - timedelta(hours=hours_before)
    changes = tuple(
        FileChange(path, "modified", new.count("\n"), old.count("\n"), _patch(old, new))
        for path, old, new in files
    )
    return Commit(f"{label:0<40}", "Some One", "one@example.org", when, when, label, changes)


LEAKY = _commit("aa", 3, ("lib/queue/pump.c", QUEUE_V1, QUEUE_V2))
"""Removes the free in a built file, 3 h before the OOM."""
README = _commit("bb", 0.25, ("README.md", "# Queue\n", "# Queue\n\nNow faster.\n"))
"""Documentation only, the most recent commit."""
CONFIG = _commit("cc", 1, ("deploy/values.yaml", "replicas: 1\n", "replicas: 2\n"))
"""An unbuilt configuration change."""
ALLOC = _commit(
    "dd",
    6,
    ("lib/util.c", "int x;\n", "int x;\nchar *name_copy(const char *s) { return strdup(s); }\n"),
)
"""Adds an allocation (not a leak) in a built file."""
OLD_LEAK = _commit("ee", 30, ("lib/queue/pump.c", QUEUE_V1, QUEUE_V2))
"""Would rank first, but landed before the 24 h window."""
LATE = _commit("ff", -0.5, ("lib/queue/pump.c", QUEUE_V1, QUEUE_V2))
"""Landed after the first OOM: cannot have caused it."""
ALL = [README, CONFIG, LEAKY, ALLOC, OLD_LEAK, LATE]


def _rank(**overrides: object) -> list[Suspect]:
    arguments: dict[str, object] = dict(
        first_oom=FIRST_OOM, deployments=[], build_globs=["*.c"], findings_by_sha={}
    )
    arguments.update(overrides)
    return rank_commits(ALL, **arguments)  # type: ignore[arg-type]


def _by_sha(suspects: list[Suspect]) -> dict[str, Suspect]:
    return {s.commit.sha: s for s in suspects}


def test_the_commit_removing_a_free_in_a_built_file_ranks_first_and_docs_last() -> None:
    # GIVEN a table of commits: a removed free, a docs change, config, a new allocation,
    # one before the window and one after the OOM
    # WHEN they are ranked
    ranked = [s.commit.sha for s in _rank()]
    # THEN the free removal leads, the documentation-only change is last
    assert ranked[0] == LEAKY.sha
    assert ranked[-1] == README.sha
    # AND the commits outside [first_oom - 24h, first_oom] are not suspects at all
    assert set(ranked) == {LEAKY.sha, README.sha, CONFIG.sha, ALLOC.sha}


def test_reasons_say_what_was_observed_and_carry_the_weights() -> None:
    # GIVEN the ranking without deployments or findings
    suspects = _by_sha(_rank())
    leaky = {r.label: r.weight for r in suspects[LEAKY.sha].reasons}
    # THEN the leaky commit's reasons name the call and file and use the weight table
    assert leaky["removes free(slot) in lib/queue/pump.c"] == WEIGHTS.removes_free
    assert leaky["touches built source lib/queue/pump.c"] == WEIGHTS.touches_build
    assert "committed 3 h before the first OOM" in leaky
    # AND its score is the sum of its reasons
    assert suspects[LEAKY.sha].score == pytest.approx(sum(leaky.values()))
    # AND the new allocation is evidence, but weaker than the removed free
    alloc = {r.label: r.weight for r in suspects[ALLOC.sha].reasons}
    assert alloc["adds strdup(s) in lib/util.c"] == WEIGHTS.adds_allocation < WEIGHTS.removes_free


def test_documentation_only_scores_zero_despite_being_most_recent() -> None:
    # GIVEN the README commit 15 minutes before the OOM (the most recent one)
    readme = _by_sha(_rank())[README.sha]
    # THEN its negative reason outweighs recency and the score is clamped at zero
    assert any(r.weight < 0 and "documentation-only" in r.label for r in readme.reasons)
    assert readme.score == 0


def test_a_deployment_between_commit_and_oom_raises_the_score() -> None:
    # GIVEN one rollout after the leaky commit, and one before it
    after = [Deployment(FIRST_OOM - timedelta(hours=2), "12", None, "rollout")]
    before = [Deployment(FIRST_OOM - timedelta(hours=4), "11", None, "rollout")]
    # WHEN ranked with each
    deployed = _by_sha(_rank(deployments=after))[LEAKY.sha]
    not_deployed = _by_sha(_rank(deployments=before))[LEAKY.sha]
    # THEN being deployed scores higher, and the reason says when and how long before the OOM
    assert deployed.score > not_deployed.score
    assert "first deployment after this commit at 06:00 UTC (revision 12), OOM 2 h later" in [
        r.label for r in deployed.reasons
    ]
    assert any(r.weight < 0 and "no deployment" in r.label for r in not_deployed.reasons)


def test_a_deployment_of_an_older_known_sha_does_not_contain_a_newer_commit() -> None:
    # GIVEN a rollout after the README commit whose SHA is the older leaky commit
    rollout = [Deployment(FIRST_OOM - timedelta(minutes=10), "13", LEAKY.sha, "rollout")]
    suspects = _by_sha(_rank(deployments=rollout))
    # THEN the leaky commit counts as deployed and the newer README commit does not
    assert any("revision 13" in r.label for r in suspects[LEAKY.sha].reasons)
    assert any("no deployment" in r.label for r in suspects[README.sha].reasons)


def test_findings_on_the_change_are_the_strongest_evidence_and_are_carried() -> None:
    # GIVEN an analysis finding on the leaky commit's changed function
    finding = LeakFinding(
        "lib/queue/pump.c",
        5,
        "pump",
        FindingKind.LEAK_IN_LOOP,
        "slot is lost each iteration",
        "slot",
        5,
        loop_line=4,
        fix_line=6,
    )
    # WHEN ranked with and without it
    plain = _by_sha(_rank())[LEAKY.sha]
    found = _by_sha(_rank(findings_by_sha={LEAKY.sha: [finding]}))[LEAKY.sha]
    # THEN the finding adds more than any single other piece of evidence, and is attached
    gained = found.score - plain.score
    assert gained == WEIGHTS.memory_finding + WEIGHTS.loop_bonus
    assert gained > max(r.weight for r in plain.reasons)
    assert found.findings == (finding,)
    assert found.confidence == "high"


def test_equal_scores_fall_back_to_recency() -> None:
    # GIVEN two identical config commits, one and two hours before the OOM, and no recency
    # points, so that both score the same
    older = _commit("c1", 2, ("deploy/a.yaml", "a: 1\n", "a: 2\n"))
    newer = _commit("c2", 1, ("deploy/a.yaml", "a: 1\n", "a: 2\n"))
    flat = type(WEIGHTS)(recency_max=0)
    # WHEN ranked
    ranked = rank_commits(
        [older, newer],
        first_oom=FIRST_OOM,
        deployments=[],
        build_globs=["*.c"],
        findings_by_sha={},
        weights=flat,
    )
    # THEN the newer one comes first
    assert [s.commit.sha for s in ranked] == [newer.sha, older.sha]


@pytest.mark.parametrize(
    ("path", "glob", "expected"),
    [
        ("lib/queue/pump.c", "*.c", True),  # no slash: file name at any depth
        ("pump.c", "*.c", True),
        ("pump.h", "*.c", False),
        ("src/pump.c", "src/**/*.c", True),  # ** matches zero directories
        ("src/a/b/pump.c", "src/**/*.c", True),
        ("lib/src/pump.c", "src/**/*.c", False),  # a slash anchors at the root
        ("src/a/pump.c", "src/*.c", False),  # * does not cross /
        ("src/pump.c", "src/*.c", True),
    ],
)
def test_build_glob_semantics(path: str, glob: str, expected: bool) -> None:
    # GIVEN a path and a glob / THEN matching follows the documented semantics
    assert matches_glob(path, glob) is expected


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("README.md", True),
        ("docs/design.txt", True),
        ("sub/doc/x.png", True),
        ("LICENSE", True),
        ("src/readme_parser.c", False),
        ("Makefile", False),
    ],
)
def test_documentation_paths(path: str, expected: bool) -> None:
    # GIVEN a path / THEN it is documentation or not
    assert is_documentation(path) is expected


def test_findings_on_a_deletion_are_kept_by_hunk_range_and_function() -> None:
    # GIVEN git's patch deleting free(slot) inside pump() (git names the function after @@),
    # and findings near it, in another function and far away in the same function
    patch = _patch(QUEUE_V1, QUEUE_V2).replace(" @@\n", " @@ void pump(void) {\n", 1)
    assert "@@ -4,6 +4,5 @@ void pump(void) {" in patch
    in_hunk = LeakFinding("pump.c", 5, "pump", FindingKind.LEAK_IN_LOOP, "m", "slot", 5)
    elsewhere = LeakFinding("pump.c", 40, "other", FindingKind.LEAK, "m", "p", 40)
    same_function_far = LeakFinding("pump.c", 90, "pump", FindingKind.LEAK, "m", "q", 90)
    # WHEN intersected with the change
    kept = findings_on_changed_lines([in_hunk, elsewhere, same_function_far], patch)
    # THEN the finding near the deletion and the one in the same function stay; the other goes
    assert kept == (in_hunk, same_function_far)
