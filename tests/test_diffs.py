"""Unified-diff parsing and the call detection commit correlation relies on."""

from __future__ import annotations

from analysis.diffs import added_calls, changed_lines, find_calls, removed_calls

TWO_HUNKS = """\
diff --git a/src/pool.c b/src/pool.c
index 1111111..2222222 100644
--- a/src/pool.c
+++ b/src/pool.c
@@ -3,4 +3,5 @@ struct pool {
 int a;
-int b;
+int b2;
+int b3;
 int c;
@@ -20,3 +21,2 @@ void drain(struct pool *p)
     use(p->slot);
-    free(p->slot);
 }
\\ No newline at end of file
"""


def test_changed_lines_numbers_added_lines_in_the_new_file_and_removed_in_the_old() -> None:
    # GIVEN a patch with a replacement hunk and a deletion hunk, plus git's headers
    # WHEN it is parsed
    changes = changed_lines(TWO_HUNKS)
    # THEN added lines carry new-file numbers, removed lines old-file numbers
    assert changes.added == (4, 5)
    assert changes.removed == (4, 21)
    assert changes.added_text == ("int b2;", "int b3;")
    assert changes.removed_text == ("int b;", "    free(p->slot);")
    # AND the deletion hunk covers its context in the new file and knows its function
    deletion = changes.hunks[1]
    assert list(deletion.new_range) == [21, 22]
    assert deletion.functions == ("drain",)


def test_a_bare_github_patch_parses_like_a_git_one() -> None:
    # GIVEN the same hunks without the diff --git header, as GitHub's API returns them
    bare = TWO_HUNKS[TWO_HUNKS.index("@@") :]
    # THEN the result is identical
    assert changed_lines(bare) == changed_lines(TWO_HUNKS)


def test_binary_or_empty_patch_changes_nothing() -> None:
    # GIVEN a binary file's patch (no hunks)
    changes = changed_lines("diff --git a/x.png b/x.png\nBinary files a/x.png and b/x.png differ\n")
    # THEN nothing is reported changed
    assert changes.is_empty and changes.hunks == ()


def test_function_comes_from_a_definition_inside_the_hunk_when_the_header_names_none() -> None:
    # GIVEN a hunk starting at line 1 (git prints no section) that contains the definition
    patch = (
        "@@ -1,5 +1,4 @@\n int tick(void) {\n   char *b = malloc(8);\n-  free(b);\n"
        "   return 0;\n }\n"
    )
    # THEN the removed line is placed in that function
    assert changed_lines(patch).hunks[0].functions == ("tick",)


def test_removed_free_is_found_with_its_argument_and_old_line() -> None:
    # GIVEN the two-hunk patch, which removes free(p->slot) at old line 21
    calls = removed_calls(TWO_HUNKS, "free")
    # THEN exactly that call is reported
    assert [(c.text, c.line) for c in calls] == [("free(p->slot)", 21)]


def test_commented_or_moved_free_is_not_a_removal() -> None:
    # GIVEN a patch removing a commented-out free, and one that moves a free down a line
    commented = "@@ -1,2 +1,1 @@\n x();\n-// free(buf);\n"
    moved = "@@ -1,3 +1,3 @@\n-    free(buf);\n     log(buf);\n+    free( buf );\n"
    # THEN neither removes a free
    assert removed_calls(commented, "free") == ()
    assert removed_calls(moved, "free") == ()


def test_added_allocations_cover_the_c_allocators_but_not_lookalikes() -> None:
    # GIVEN added lines with malloc, calloc, realloc, strdup, a custom allocator and a string
    patch = (
        "@@ -1,1 +1,6 @@\n ctx();\n+char *a = malloc(n * 2);\n+int *b = calloc(4, sizeof *b);\n"
        "+a = realloc(a, 2 * n);\n+char *s = strdup(name);\n+void *m = my_malloc(3);\n"
        '+puts("malloc(1)");\n'
    )
    # WHEN allocations are looked for
    calls = added_calls(patch)
    # THEN the four real allocator calls are found, each on its new-file line
    assert [(c.name, c.arguments, c.line) for c in calls] == [
        ("malloc", "n * 2", 2),
        ("calloc", "4, sizeof *b", 3),
        ("realloc", "a, 2 * n", 4),
        ("strdup", "name", 5),
    ]


def test_find_calls_handles_nested_parentheses() -> None:
    # GIVEN an allocation whose size has nested parentheses and a trailing comment
    line = "  char *p = malloc((size_t)(n + 1) * sizeof(char)); /* free(p) later */"
    # THEN the whole argument is kept and the commented call ignored
    assert [c.text for c in find_calls(line, ("malloc", "free"))] == [
        "malloc((size_t)(n + 1) * sizeof(char))"
    ]


def test_a_change_after_a_closing_brace_is_outside_the_function() -> None:
    # GIVEN a hunk whose context ends a function before the added global
    patch = "@@ -10,3 +10,4 @@ void drain(void)\n     flush();\n }\n \n+static int budget = 4;\n"
    # THEN the addition is not attributed to drain()
    assert changed_lines(patch).hunks[0].functions == ()
