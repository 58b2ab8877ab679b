"""Widget render tests without an App: the text each pane shows for a given snapshot."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from textual_plotext import Plot

from analysis.annotate import annotate_change
from analysis.model import (
    Commit, ContainerState, Incident, IncidentStatus, MemorySample, Reason, Suspect, Termination, TimelineKind,
)
from widgets.diff_view import render_diff
from widgets.incident_header import HeaderView, header_text
from widgets.memory_graph import MemoryView, draw_memory_plot, summary_line
from widgets.suspects import reasons_text
from widgets.timeline import KIND_LABELS, format_time

NOW = datetime(2026, 12, 1, 12, 0, 0, tzinfo=timezone.utc)
MIB = 1024 * 1024


def leaking_view() -> MemoryView:
    samples = tuple(
        MemorySample(NOW - timedelta(seconds=60 - i), (i % 7) * 10 * MIB, "cgroup-v1") for i in range(60)
    )
    return MemoryView(
        samples=samples,
        limit_bytes=64 * MIB,
        now=NOW,
        oom_kills=(NOW - timedelta(seconds=30),),
        restarts=(NOW - timedelta(seconds=20),),
        limit_mechanism="cgroup-v1",
        container=ContainerState("worker-1", "worker-container", "waiting", "CrashLoopBackOff", 2, 64 * MIB,
                                 last_termination=Termination("OOMKilled", 137, NOW - timedelta(seconds=37),
                                                              NOW - timedelta(seconds=30))),
        window=timedelta(seconds=90),
    )


def test_memory_plot_marks_limit_oom_and_restart_in_text() -> None:
    # GIVEN a leaking workload with one OOM kill and one restart
    plot = Plot()
    # WHEN the graph is drawn at 80x16 on its own plot object
    draw_memory_plot(plot, leaking_view(), 80, 16)
    text = Plot.uncolorize(plot.build())
    # THEN the limit, the kill and the restart are readable without colour
    assert "limit 64 MiB" in text
    assert "OOM" in text
    assert "R" in text.splitlines()[-4] or any(" R " in line for line in text.splitlines())


def test_memory_summary_states_value_percent_state_and_mechanism() -> None:
    # GIVEN the same view; its last sample (i=59, 59 % 7 = 3) is 30 MiB of 64
    line = summary_line(leaking_view())
    # THEN the header names the value, the percentage, the state and how the limit is enforced
    assert "30.0 MiB / 64.0 MiB (47% of limit)" in line
    assert "WAITING (CrashLoopBackOff)" in line
    assert "OOM kills 1" in line and "restarts 2" in line
    # AND the OOM evidence of the last run stays visible while the container waits or runs again
    assert line.splitlines()[1] == "last: OOMKilled exit 137 at 11:59:30 UTC after 7s"
    # AND the second line says how the limit is enforced and where samples come from
    assert line.splitlines()[2] == "limit by cgroup-v1 | samples: cgroup-v1"


def test_timeline_times_switch_between_utc_and_local(monkeypatch) -> None:
    # GIVEN a local zone five and a half hours ahead of UTC
    monkeypatch.setenv("TZ", "Asia/Kolkata")
    import time

    time.tzset()
    try:
        at = datetime(2026, 12, 1, 10, 0, 0, tzinfo=timezone.utc)
        # THEN UTC shows 10:00:00 and local shows 15:30:00
        assert format_time(at, local=False, now=at) == "10:00:00"
        assert format_time(at, local=True, now=at) == "15:30:00"
        # AND an entry from another day shows its date
        assert format_time(at - timedelta(days=1), local=False, now=at) == "11-30 10:00:00"
    finally:
        monkeypatch.delenv("TZ")
        time.tzset()


def test_every_timeline_kind_has_a_text_tag() -> None:
    # THEN no kind relies on colour alone
    assert set(KIND_LABELS) == set(TimelineKind)


def test_header_shows_status_in_words() -> None:
    # GIVEN a triggered incident
    incident = Incident("Q1", 1001, "OOMKilled: worker", "ads-demo-service", "high", IncidentStatus.TRIGGERED,
                        NOW - timedelta(minutes=3), assignee="Dana Ortiz")
    text = header_text(HeaderView(incident, "ads-demo-service", "demo"), now=NOW)
    # THEN the status, urgency, assignee and age are words on the first line
    assert text.splitlines()[0].startswith("#1001 !! TRIGGERED | high urgency | Dana Ortiz")
    assert "3 min ago" in text
    # AND the service and title follow on the second line
    assert text.splitlines()[1] == "ads-demo-service: OOMKilled: worker"


def test_reasons_are_listed_strongest_first_with_weights() -> None:
    commit = Commit("a" * 40, "Sam", "sam@x", NOW, NOW, "tidy up controller loop")
    suspect = Suspect(commit, 75.0, (Reason("committed 40 min before", 10), Reason("removes free(buffer)", 30)))
    lines = reasons_text(suspect).splitlines()
    # THEN the strongest reason comes first, with its signed weight
    assert lines[2].split() == ["+30", "removes", "free(buffer)"]
    assert "high confidence" in lines[1]


def test_rendered_diff_marks_kinds_and_notes_without_colour() -> None:
    from tests.test_annotate import NEW, OLD, leak

    text = render_diff(annotate_change("worker.c", "abc1234def", OLD, NEW, [leak()])).plain
    # THEN the removed free has a '-' mark and the notes hang under their line with '^'
    assert "   5      -         free(buffer);" in text
    assert "^ ALLOC buffer (leak-in-loop)" in text


def test_runs_are_not_bridged_across_a_gap_without_samples() -> None:
    from widgets.memory_graph import split_at_gaps

    # GIVEN two runs of samples 10 s apart (a back-off with no samples)
    points = [(-30.0, 10.0), (-29.5, 20.0), (-29.0, 30.0), (-19.0, 5.0), (-18.5, 15.0)]
    # THEN they are drawn as two segments, and a gap under the threshold joins nothing
    assert split_at_gaps(points, 2.0) == [points[:3], points[3:]]
    assert split_at_gaps(points, 20.0) == [points]
    assert split_at_gaps([], 2.0) == []


def test_samples_at_the_limit_and_at_a_kill_stay_visible() -> None:
    # GIVEN a worker at 63 MiB of 64 (the limit's row) killed "now" (the kill line's column)
    samples = tuple(MemorySample(NOW - timedelta(seconds=age), 63 * MIB, "cgroup-v1") for age in (4, 2, 0))
    def braille(line: str) -> bool:
        return any(0x2800 < ord(char) < 0x2900 for char in line)

    for ascii_mode, drawn in ((True, lambda line: "*" in line), (False, braille)):
        view = MemoryView(samples=samples, limit_bytes=64 * MIB, now=NOW, oom_kills=(NOW,), ascii_only=ascii_mode)
        plot = Plot()
        # WHEN the 5-minute graph is drawn at 78x14
        draw_memory_plot(plot, view, 78, 14)
        text = Plot.uncolorize(plot.build())
        # THEN the samples are drawn over the limit line and the kill line, not hidden under them
        limit_row = next(line for line in text.splitlines() if "limit 64 MiB" in line)
        assert drawn(limit_row), text
        # AND the kill at the right edge is labelled in full
        assert "OOM" in text, text
