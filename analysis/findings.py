"""What the C analysis says: findings, input diagnostics, and the fixes made from them.

Frozen like the rest of :mod:`analysis.model`, which re-exports every name here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum


class FindingKind(str, Enum):
    """Kinds of C analysis findings."""

    LEAK = "leak"
    """Heap memory becomes unreachable without being freed."""
    LEAK_IN_LOOP = "leak-in-loop"
    """A leak repeated on every loop iteration: memory grows without bound."""
    DOUBLE_FREE = "double-free"
    """The same block is freed twice."""
    USE_AFTER_FREE = "use-after-free"
    """A freed block is used."""
    RESOURCE_LEAK = "resource-leak"
    """A ``FILE*`` or descriptor is never closed."""


@dataclass(frozen=True)
class LeakFinding:
    """One problem found by the C analysis, tied to original source lines."""

    file: str
    """Path of the C file, as given to the analyzer."""
    line: int
    """Line reported (the allocation site)."""
    function: str
    """Enclosing function."""
    kind: FindingKind
    """What sort of problem."""
    message: str
    """Short path explanation."""
    variable: str
    """The pointer variable holding the block."""
    alloc_line: int
    """Line of the allocation."""
    lost_line: int | None = None
    """Line where the last reference is lost (overwritten, out of scope, returned past)."""
    loop_line: int | None = None
    """Line of the enclosing loop, for leaks in loops."""
    fix_line: int | None = None
    """Line after which ``free(variable);`` would fix it."""
    release: str = "free"
    """The call that releases the resource: ``free``, ``fclose``, ``pclose`` or ``close``."""


@dataclass(frozen=True)
class Diagnostic:
    """A problem with the input itself (cannot preprocess, cannot parse)."""

    file: str
    """File concerned."""
    line: int | None
    """Line, when known."""
    message: str
    """What went wrong, in words a user can act on."""


@dataclass(frozen=True)
class AnalysisResult:
    """Findings and diagnostics for one or more C files."""

    findings: tuple[LeakFinding, ...] = ()
    """Problems found."""
    diagnostics: tuple[Diagnostic, ...] = ()
    """Inputs that could not be analysed."""


@dataclass(frozen=True)
class Fix:
    """A synthesized, verified patch for a finding."""

    file: str
    """Repository path of the patched file."""
    function: str
    """Function patched."""
    description: str
    """One line, e.g. ``insert free(buffer); after its last use in the loop body``."""
    original: str
    """Source before the patch."""
    patched: str
    """Source after the patch."""
    diff: str
    """Unified diff (``a/`` and ``b/`` prefixes), ready for ``git apply``."""
    lines_added: int
    """Lines the patch adds."""
    verified_by_analysis: bool
    """True when re-analysing the patched source leaves no finding for this function."""
    compiled: bool | None = None
    """True/False when a compiler was run on the patched source, None when none was available."""
    verification_notes: tuple[str, ...] = field(default_factory=tuple)
    """What was checked and how it went."""
