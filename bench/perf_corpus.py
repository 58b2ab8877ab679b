"""Synthetic inputs for bench/perf_analysis.py: a 50,000-line C file and git histories.

Everything is generated, deterministic and written only under a directory the caller gives, so
the benchmark and its tests (tests/test_incremental_analysis.py) see the same inputs.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

_HEADER = """\
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>

#define RECORD_MAX 256
#define BATCH_SIZE 64

typedef struct record {
    int id;
    size_t length;
    char *payload;
    struct record *next;
} record_t;

typedef struct stats {
    long processed;
    long dropped;
    double mean_length;
} stats_t;

enum mode { MODE_FAST = 1, MODE_SAFE = 2, MODE_DEBUG = 4 };

static int verbose = 0;
static const int retry_limit = 3;
static stats_t global_stats;

int sink(const char *data, size_t length);
void log_line(const char *message);
"""

# Six shapes of everyday C, each about 48 lines; {k} makes names unique. All are leak-free, so
# the only finding in the file is the one the culprit commit introduces.
_SHAPES = (
    """\
record_t *record_new_{k}(int id, const char *text)
{{
    record_t *r = malloc(sizeof(record_t));
    if (r == NULL)
        return NULL;
    r->id = id;
    r->length = strlen(text);
    r->payload = malloc(r->length + 1);
    if (r->payload == NULL) {{
        free(r);
        return NULL;
    }}
    memcpy(r->payload, text, r->length + 1);
    r->next = NULL;
    return r;
}}

void record_free_{k}(record_t *r)
{{
    while (r != NULL) {{
        record_t *next = r->next;
        free(r->payload);
        free(r);
        r = next;
    }}
}}
""",
    """\
int checksum_{k}(const char *data, size_t length)
{{
    int sum = 0;
    size_t i;
    for (i = 0; i < length; i++) {{
        sum = (sum * 31 + data[i]) % 65521;
        if (sum < 0)
            sum = -sum;
    }}
    if (verbose > 1)
        log_line("checksum computed");
    return sum;
}}

char *join_{k}(const char *left, const char *right)
{{
    size_t a = strlen(left);
    size_t b = strlen(right);
    char *out = malloc(a + b + 2);
    if (out == NULL)
        return NULL;
    memcpy(out, left, a);
    out[a] = '/';
    memcpy(out + a + 1, right, b + 1);
    return out;
}}
""",
    """\
int drain_{k}(int rounds)
{{
    int total = 0;
    int round;
    for (round = 0; round < rounds; round++) {{
        char *chunk = malloc(RECORD_MAX);
        if (chunk == NULL)
            return -1;
        memset(chunk, round & 0xff, RECORD_MAX);
        total += sink(chunk, RECORD_MAX);
        free(chunk);
    }}
    global_stats.processed += total;
    return total;
}}

int count_lines_{k}(const char *path)
{{
    FILE *f = fopen(path, "r");
    int lines = 0;
    int c;
    if (f == NULL)
        return -1;
    while ((c = fgetc(f)) != EOF) {{
        if (c == '\\n')
            lines++;
    }}
    fclose(f);
    return lines;
}}
""",
    """\
static int parse_pairs_{k}(const char *text, int *keys, int *values, int max)
{{
    int n = 0;
    const char *p = text;
    while (*p != '\\0' && n < max) {{
        int key = 0;
        int value = 0;
        while (*p >= '0' && *p <= '9') {{
            key = key * 10 + (*p - '0');
            p++;
        }}
        if (*p != '=')
            break;
        p++;
        while (*p >= '0' && *p <= '9') {{
            value = value * 10 + (*p - '0');
            p++;
        }}
        keys[n] = key;
        values[n] = value;
        n++;
        if (*p == ',')
            p++;
    }}
    return n;
}}
""",
    """\
int copy_file_{k}(const char *from, const char *to)
{{
    char block[512];
    ssize_t got;
    int in = open(from, O_RDONLY);
    int out;
    if (in < 0)
        return -1;
    out = open(to, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (out < 0) {{
        close(in);
        return -1;
    }}
    while ((got = read(in, block, sizeof block)) > 0) {{
        if (write(out, block, (size_t)got) != got) {{
            close(in);
            close(out);
            return -1;
        }}
    }}
    close(in);
    close(out);
    return 0;
}}
""",
    """\
int summarise_{k}(record_t *head, stats_t *stats)
{{
    long count = 0;
    double total = 0.0;
    record_t *r;
    int attempt;
    for (r = head; r != NULL; r = r->next) {{
        count++;
        total += (double)r->length;
        for (attempt = 0; attempt < retry_limit; attempt++) {{
            if (sink(r->payload, r->length) == 0)
                break;
        }}
        if (attempt == retry_limit)
            stats->dropped++;
    }}
    stats->processed += count;
    if (count > 0)
        stats->mean_length = total / (double)count;
    switch (verbose) {{
    case MODE_DEBUG:
        log_line("summary written");
        break;
    default:
        break;
    }}
    return (int)count;
}}
""",
)

CULPRIT_FUNCTION = "controller"
"""The one function the culprit commit changes."""

_CONTROLLER = """\
int controller(int batches)
{
    int done = 0;
    int i;
    for (i = 0; i < batches; i++) {
        char *buffer = malloc(RECORD_MAX * BATCH_SIZE);
        if (buffer == NULL)
            return -1;
        memset(buffer, 0, RECORD_MAX * BATCH_SIZE);
        done += drain_2(BATCH_SIZE);
        done += sink(buffer, RECORD_MAX * BATCH_SIZE);
        free(buffer);
    }
    return done;
}
"""


def large_c_file(lines: int = 50_000) -> tuple[str, str]:
    """A realistic C file of about ``lines`` lines, before and after the culprit commit.

    Args:
        lines: Target length; the file stops at the first shape that reaches it.

    Returns:
        ``(before, after)``: ``after`` differs only in ``controller()``, whose loop no longer
        frees ``buffer`` (the demo's reference leak).
    """
    parts = [_HEADER]
    count, k = _HEADER.count("\n"), 0
    while count < lines:
        shape = _SHAPES[k % len(_SHAPES)].format(k=k)
        parts.append("\n" + shape)
        count += shape.count("\n") + 1
        k += 1
        if k == 420:  # the culprit's function sits in the middle, as it would in a real file
            parts.append("\n" + _CONTROLLER)
            count += _CONTROLLER.count("\n") + 1
    before = "".join(parts)
    after = before.replace("        free(buffer);\n", "", 1)
    return before, after


def _git(path: Path, *args: str, stdin: bytes | None = None) -> str:
    """Run git in ``path`` with no user or system configuration."""
    env = {**os.environ, "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull,
           "LC_ALL": "C"}
    done = subprocess.run(["git", "-C", str(path), *args], input=stdin, capture_output=True,
                          env=env, check=True)
    return done.stdout.decode()


def _data(text: str) -> bytes:
    raw = text.encode()
    return b"data %d\n" % len(raw) + raw + b"\n"


def fast_import_repository(path: Path, commits: Iterator[tuple[str, datetime, str, dict[str, str]]]
                           ) -> str:
    """Create a repository at ``path`` whose ``main`` is ``commits`` (oldest first).

    Args:
        path: A directory that does not exist yet.
        commits: ``(author, committed at, message, {path: new content})`` tuples.

    Returns:
        The SHA of the tip of ``main``.
    """
    path.mkdir(parents=True)
    _git(path, "init", "--quiet", "--initial-branch=main")
    stream = bytearray()
    for mark, (author, at, message, files) in enumerate(commits, start=1):
        when = f"{int(at.timestamp())} +0000"
        ident = f"{author} <{author.lower().replace(' ', '.')}@example.com> {when}"
        stream += f"commit refs/heads/main\nmark :{mark}\nauthor {ident}\ncommitter {ident}\n".encode()
        stream += _data(message)
        for name, content in files.items():
            stream += f"M 100644 inline {name}\n".encode() + _data(content)
        stream += b"\n"
    _git(path, "fast-import", "--quiet", stdin=bytes(stream))
    _git(path, "reset", "--quiet", "--hard", "main")
    return _git(path, "rev-parse", "main").strip()


def large_file_repository(path: Path, now: datetime) -> str:
    """A repository with the 50,000-line file and the commit that changes one function.

    Returns:
        The culprit commit's SHA (the tip of ``main``).
    """
    before, after = large_c_file()
    return fast_import_repository(path, iter([
        ("Priya Raman", now - timedelta(days=3), "Import the pipeline", {"pipeline.c": before}),
        ("Dev Patel", now - timedelta(minutes=57), "tidy up controller loop", {"pipeline.c": after}),
    ]))


_AUTHORS = ("Priya Raman", "Marcus Oyelaran", "Jonas Becker", "Aiko Tanaka", "Dev Patel")
_SMALL_C = ("src/codec.c", "src/queue.c", "src/metrics.c", "src/config.c")


def _small_c(name: str, revision: int) -> str:
    """A small, clean C file whose content changes with ``revision``."""
    k = sum(map(ord, name)) % 1000
    body = "".join(_SHAPES[(k + j) % len(_SHAPES)].format(k=f"{k}_{j}") for j in range(4))
    return f"{_HEADER}\n/* revision {revision} */\nstatic int revision = {revision};\n\n{body}"


def busy_repository(path: Path, first_oom: datetime, commits: int = 5000) -> str:
    """A repository with ``commits`` commits in the 24 h before ``first_oom``, the culprit among them.

    About one commit in 25 touches a small C file (a realistic share for a service repository:
    most commits are configuration, documentation, scripts and tests); the rest touch other files.
    The culprit, which removes ``free(buffer)`` from ``worker.c``'s loop, lands two hours before
    the first OOM kill; fifty ordinary commits follow it.

    Args:
        path: A directory that does not exist yet.
        first_oom: The end of the window.
        commits: How many commits the window holds.

    Returns:
        The culprit commit's SHA.
    """
    worker_before, worker_after = _worker_versions()
    step = timedelta(hours=24) / (commits + 1)
    start = first_oom - timedelta(hours=24)
    culprit_index = commits - 51

    def history() -> Iterator[tuple[str, datetime, str, dict[str, str]]]:
        files = {name: _small_c(name, 0) for name in _SMALL_C}
        files.update({"worker.c": worker_before, "README.md": "# service\n"})
        yield ("Priya Raman", start - timedelta(days=2), "Import the service", files)
        for i in range(commits):
            at = start + step * (i + 1)
            author = _AUTHORS[i % len(_AUTHORS)]
            if i == culprit_index:
                yield (author, at, "tidy up controller loop", {"worker.c": worker_after})
            elif i % 25 == 0:
                name = _SMALL_C[(i // 25) % len(_SMALL_C)]
                yield (author, at, f"{name}: tune revision {i}", {name: _small_c(name, i)})
            elif i % 3 == 0:
                yield (author, at, f"config: bump setting {i}", {f"config/service-{i % 40}.yaml": f"value: {i}\n"})
            elif i % 3 == 1:
                yield (author, at, f"docs: note {i}", {f"docs/note-{i % 60}.md": f"# Note\n\nrevision {i}\n"})
            else:
                yield (author, at, f"scripts: step {i}", {f"scripts/step-{i % 30}.sh": f"#!/bin/sh\necho {i}\n"})

    fast_import_repository(path, history())
    return _git(path, "log", "--format=%H", "-1", "--grep=tidy up controller loop", "main").strip()


def _worker_versions() -> tuple[str, str]:
    """The demo's worker.c and the culprit's version of it (``free(buffer)`` removed)."""
    from tui.sources.demo import repo_builder  # the demo's own template and edit

    clean = repo_builder._template("worker.c")
    return clean, repo_builder._without_free_in_controller(clean)


def utc_now() -> datetime:
    """Now, in UTC, to the second."""
    return datetime.now(UTC).replace(microsecond=0)
