"""The abstract state of the ownership walk: what each local pointer holds, and how paths join.

A state maps a variable's key to :class:`Owned`, :class:`Freed` or :data:`NULL`; a key that is
absent is unknown (never allocated here, or ownership escaped) and the analysis stays silent about
it. ``None`` in place of a state stands for an unreachable point.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from pycparser import c_ast

from analysis.c_uses import is_null, strip_casts
from analysis.c_verdicts import Loop


@dataclass(frozen=True)
class Owned:
    """The variable owns a block that has not been freed."""

    alloc_line: int
    """Line of the allocation."""
    loop: Loop | None
    """Innermost loop around the allocation."""
    anchor: tuple[tuple[int, int], ...]
    """Position of the last use: (block id, statement index) from the body down."""
    anchor_line: int
    """Line of the last use."""
    at_decl: bool
    """True when the allocation is the declaration's initialiser."""
    mixed: bool = False
    """True when on some merged path the block was freed or escaped (no safe single fix point)."""
    freed_at: int | None = None
    """Line of a ``free`` on another merged path: freeing again here may be a double free."""


@dataclass(frozen=True)
class Freed:
    """The variable's block was freed."""

    line: int
    """Line of the ``free``."""
    alloc_line: int
    """Line of the allocation, or of the free when unknown."""
    definite: bool = True
    """True when freed on every path reaching this point."""


@dataclass(frozen=True)
class Null:
    """The variable holds no block (null, or declared without an initialiser)."""


NULL = Null()
VarState = Owned | Freed | Null
State = dict[str, VarState]


def merge(a: State | None, b: State | None) -> State | None:
    """Join two states at a control-flow merge point."""
    if a is None:
        return None if b is None else dict(b)
    if b is None:
        return dict(a)
    out: State = {}
    for key in a.keys() | b.keys():
        joined = _merge_var(a.get(key), b.get(key))
        if joined is not None:
            out[key] = joined
    return out


def _merge_var(x: VarState | None, y: VarState | None) -> VarState | None:
    if x == y:
        return x
    if isinstance(y, Owned) and not isinstance(x, Owned):
        x, y = y, x
    if isinstance(x, Owned):
        if isinstance(y, Owned):
            later = x if x.anchor_line >= y.anchor_line else y
            return replace(later, alloc_line=min(x.alloc_line, y.alloc_line), loop=x.loop or y.loop,
                           at_decl=x.at_decl and y.at_decl, mixed=x.mixed or y.mixed,
                           freed_at=x.freed_at or y.freed_at)
        # Null on the other path is harmless (free(NULL) is fine); freed or escaped is not.
        if isinstance(y, Null):
            return x
        return replace(x, mixed=True, freed_at=y.line if isinstance(y, Freed) else x.freed_at)
    if isinstance(y, Freed) and not isinstance(x, Freed):
        x, y = y, x
    if isinstance(x, Freed):
        both = isinstance(y, Freed) and x.definite and y.definite
        return replace(x, line=min(x.line, y.line) if isinstance(y, Freed) else x.line, definite=both)
    return None  # Null joined with unknown is unknown


def null_facts(cond: c_ast.Node | None, truth: bool) -> list[tuple[str, bool]]:
    """Facts ``(name, is_null)`` that hold when ``cond`` evaluates to ``truth``."""
    cond = strip_casts(cond)
    if isinstance(cond, c_ast.ID):
        return [(cond.name, not truth)]
    if isinstance(cond, c_ast.Assignment) and cond.op == "=" and isinstance(cond.lvalue, c_ast.ID):
        return [(cond.lvalue.name, not truth)]
    if isinstance(cond, c_ast.UnaryOp) and cond.op == "!":
        return null_facts(cond.expr, not truth)
    if isinstance(cond, c_ast.BinaryOp):
        if cond.op == "&&":
            return null_facts(cond.left, True) + null_facts(cond.right, True) if truth else []
        if cond.op == "||":
            return [] if truth else null_facts(cond.left, False) + null_facts(cond.right, False)
        if cond.op in ("==", "!="):
            other = cond.left if is_null(cond.right) else cond.right if is_null(cond.left) else None
            if other is not None:
                return null_facts(other, truth if cond.op == "!=" else not truth)
    return []


def is_constant_true(cond: c_ast.Node | None) -> bool:
    cond = strip_casts(cond)
    if cond is None:
        return True
    if isinstance(cond, c_ast.Constant) and cond.type in ("int", "long", "char"):
        try:
            return int(cond.value.rstrip("uUlL"), 0) != 0
        except ValueError:
            return False
    return False
