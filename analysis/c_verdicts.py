"""Turning what the path walker observes into :class:`~analysis.model.LeakFinding` values.

Kept apart from the walker so the wording of findings (which users read in the TUI, in reports
and in PR bodies) lives in one place.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from analysis.c_libc import MEMORY, RELEASE_OF
from analysis.model import FindingKind, LeakFinding

if TYPE_CHECKING:
    from analysis.c_state import Freed, Owned

LossKind = Literal["overwrite", "redeclared", "end", "return", "break", "continue", "goto",
                   "discarded", "container"]
"""How the last reference to a block was lost."""


@dataclass(frozen=True)
class Loop:
    """A loop statement the walker is inside."""

    line: int
    """Line of the ``while``/``for``/``do`` keyword."""
    body_id: int
    """``id()`` of the loop body node, to find the block a fix goes into."""
    infinite: bool
    """True for ``while (1)`` and ``for (;;)``: a leak there grows without bound."""


class Reporter:
    """Collects findings for one function, first report per allocation wins."""

    def __init__(self, filename: str, function: str) -> None:
        """Start an empty report.

        Args:
            filename: File put on every finding.
            function: Function put on every finding.
        """
        self.filename = filename
        self.function = function
        self.names: dict[str, str] = {}
        """State key -> variable name as written."""
        self._found: dict[tuple[str, int, FindingKind], LeakFinding] = {}
        self._blocks: set[str] = set()

    def findings(self) -> list[LeakFinding]:
        """The findings so far, in the order found.

        A leak "on some paths" of a variable that is also freed twice is the same defect seen
        from the other side (a free on the wrong path): only the double free is kept.
        """
        doubled = {f.variable for f in self._found.values() if f.kind is FindingKind.DOUBLE_FREE}
        return [f for f in self._found.values()
                if not (f.variable in doubled and f.message.endswith("(on some paths)"))]

    def leak(self, key: str, owned: Owned, line: int, how: LossKind, in_loop: bool,
             fix_line: int | None) -> None:
        """Record that the resource held by ``key`` became unreachable.

        Args:
            key: State key of the variable.
            owned: Its ownership state at the loss.
            line: Where the loss happens (assignment, return, closing brace ...).
            how: What kind of loss it is.
            in_loop: True when the allocation's loop is still running, so the loss repeats.
            fix_line: Line after which the release call fixes it, when one is safe.
        """
        site = owned.block.rstrip("^")  # every generation of one allocation site
        if site in self._blocks:
            return  # the same allocation seen again on another path or loop pass
        if owned.mixed and owned.maybe_null:
            # Allocated on some paths and released on some: almost always the same condition
            # tested twice (`if (c) p = malloc(n); ... if (c) free(p);`). Stay silent.
            return
        self._blocks.add(site)
        repeats = in_loop and owned.loop is not None
        lost = owned.alloc_line if how == "redeclared" else line
        message = _leak_message(owned, lost, how, repeats)
        if owned.resource != MEMORY:
            kind = FindingKind.RESOURCE_LEAK
        else:
            kind = FindingKind.LEAK_IN_LOOP if repeats else FindingKind.LEAK
        self._add(LeakFinding(
            file=self.filename, line=owned.alloc_line, function=self.function, kind=kind,
            message=message, variable=self.names.get(key, key), alloc_line=owned.alloc_line,
            lost_line=lost, loop_line=owned.loop.line if repeats and owned.loop else None,
            fix_line=fix_line, release=RELEASE_OF.get(owned.resource, "free"),
        ), key)

    def realloc_leak(self, key: str, owned: Owned, line: int, allocator: str) -> None:
        """Record ``p = realloc(p, n)``: on failure the only pointer to the old block is lost.

        Args:
            key: State key of the variable.
            owned: The block before the call.
            line: Line of the call.
            allocator: ``realloc`` or ``reallocarray``.
        """
        name = self.names.get(key, key)
        where = f"allocated at {owned.alloc_line}; " if owned.alloc_line else ""
        self._add(LeakFinding(
            file=self.filename, line=line, function=self.function, kind=FindingKind.LEAK,
            message=f"{where}if {allocator} at {line} fails it returns NULL and overwrites {name}, "
                    "the only pointer to the old block (realloc failure leaks it); "
                    "assign the result to a temporary first",
            variable=name, alloc_line=owned.alloc_line or line, lost_line=line, loop_line=None,
            fix_line=None, release="free",
        ), key)

    def after_free(self, key: str, freed: Freed | None, line: int, kind: FindingKind,
                   maybe: bool = False) -> None:
        """Record a double free or a use after free of the block held by ``key``.

        Args:
            key: State key of the variable.
            freed: Its freed state.
            line: Line of the second free or of the use.
            kind: ``DOUBLE_FREE`` or ``USE_AFTER_FREE``.
            maybe: True when the first free happened on only some of the paths reaching here.
        """
        if freed is None:
            return
        name = self.names.get(key, key)
        released = "closed" if freed.resource != MEMORY else "freed"
        what = f"{released} again" if kind is FindingKind.DOUBLE_FREE else "used"
        self._add(LeakFinding(
            file=self.filename, line=line, function=self.function, kind=kind,
            message=f"{name} {'may be ' if maybe else ''}{released} at {freed.line}"
                    f"{' on another path' if maybe else ''}; {what} at {line}", variable=name,
            alloc_line=freed.alloc_line, lost_line=None, loop_line=None, fix_line=None,
            release=RELEASE_OF.get(freed.resource, "free"),
        ), key)

    def _add(self, finding: LeakFinding, key: str) -> None:
        self._found.setdefault((key, finding.line, finding.kind), finding)


def _leak_message(owned: Owned, lost: int, how: LossKind, repeats: bool) -> str:
    opened = owned.resource != MEMORY
    where = f"{'opened' if opened else 'allocated'} at {owned.alloc_line}"
    if repeats and owned.loop is not None:
        where += f" in loop at {owned.loop.line}"
    loss = {
        "overwrite": f"overwritten at {lost}" + (" on the next iteration" if repeats else ""),
        "redeclared": f"overwritten at {lost} on the next iteration",
        "end": f"goes out of scope at {lost}" + (" at the end of every iteration" if repeats else ""),
        "return": f"still held at the return at {lost}",
        "break": f"still held at the break at {lost}",
        "continue": f"lost at the continue at {lost}",
        "goto": f"still held at the goto at {lost}",
        "discarded": f"the result is discarded at {lost}",
        "container": f"lost when the structure holding it is freed at {lost}",
    }[how]
    tail = "never closed" if opened else "never freed"
    if repeats and owned.loop is not None:
        tail += " — grows without bound" if owned.loop.infinite else " — leaks on every iteration"
    if owned.mixed:
        tail += " (on some paths)"
    return f"{where}; {loss}; {tail}"
