"""Pure tests of the annotated diff: findings land on the right lines, fixes are shown."""

from __future__ import annotations

from analysis.annotate import DiffLineKind, annotate_change
from analysis.model import Fix, FindingKind, LeakFinding

OLD = """void controller() {
    while (1) {
        char *buffer = malloc(10);
        process_work(buffer);
        free(buffer);
        sleep(1);
    }
}
"""
NEW = OLD.replace("        free(buffer);\n", "")


def leak() -> LeakFinding:
    return LeakFinding(
        file="worker.c", line=3, function="controller", kind=FindingKind.LEAK_IN_LOOP,
        message="allocated at 3 in loop at 2; never freed", variable="buffer",
        alloc_line=3, lost_line=3, loop_line=2, fix_line=4,
    )


def test_removed_free_and_findings_are_marked_on_their_lines() -> None:
    # GIVEN a commit that removes free(buffer) and a leak found in the new version
    # WHEN the change is annotated
    diff = annotate_change("worker.c", "abc1234", OLD, NEW, [leak()])
    # THEN the removed line is a REMOVED row with its old line number
    removed = [line for line in diff.lines if line.kind is DiffLineKind.REMOVED]
    assert [(line.old_line, line.text.strip()) for line in removed] == [(5, "free(buffer);")]
    # AND the allocation line carries ALLOC and LOST notes, the loop line a LOOP note
    by_new = {line.new_line: line for line in diff.lines if line.new_line}
    assert any(note.startswith("ALLOC buffer") for note in by_new[3].notes)
    assert any(note.startswith("LOST") for note in by_new[3].notes)
    assert any(note.startswith("LOOP") for note in by_new[2].notes)


def test_fix_lines_follow_the_line_they_are_inserted_after() -> None:
    # GIVEN a fix that inserts free(buffer); after line 4 of the new version
    patched = NEW.replace("process_work(buffer);\n", "process_work(buffer);\n        free(buffer);\n")
    fix = Fix("worker.c", "controller", "insert free(buffer);", NEW, patched, "", 1, True)
    # WHEN the change is annotated with that fix
    diff = annotate_change("worker.c", "abc1234", OLD, NEW, [leak()], fix=fix)
    # THEN a FIX row follows new line 4
    rows = list(diff.lines)
    fix_index = next(i for i, line in enumerate(rows) if line.kind is DiffLineKind.FIX)
    assert rows[fix_index].text.strip() == "free(buffer);"
    assert rows[fix_index - 1].new_line == 4


def test_far_unchanged_lines_are_folded() -> None:
    # GIVEN a long file where only one line changes at the end
    head = "".join(f"int v{i};\n" for i in range(40))
    diff = annotate_change("a.c", "s", head + "int x;\n", head + "int y;\n", [])
    # THEN the unchanged start is folded into one GAP row naming how many lines it hides
    gaps = [line for line in diff.lines if line.kind is DiffLineKind.GAP]
    assert gaps and gaps[0].text == "... 37 unchanged lines ..."
