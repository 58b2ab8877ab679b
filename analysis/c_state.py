"""The abstract state of the ownership walk: what each local variable holds, and how paths join.

A state maps a variable's key to :class:`Owned`, :class:`Freed` or :data:`NULL`; a key that is
absent is unknown (never allocated here, or ownership escaped) and the analysis stays silent about
it. ``None`` in place of a state stands for an unreachable point. Several keys may hold the same
*block* (``q = p``): a block is lost only when the last key holding it is.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from pycparser import c_ast

from analysis.c_uses import is_null, strip_casts
from analysis.c_verdicts import Loop


@dataclass(frozen=True)
class Owned:
    """The variable owns a resource that has not been released."""

    alloc_line: int
    """Line of the allocation (0 for a parameter's block)."""
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
    """Line of a release on another merged path: releasing again here may be a double free."""
    block: str = ""
    """Identity of the resource: keys holding the same block are aliases."""
    resource: str = "memory"
    """``memory``, ``file``, ``pipe`` or ``fd``."""
    param: int | None = None
    """Parameter index when this is the caller's block passed in (never reported here)."""
    aliased: bool = False
    """True when the block was copied to another variable (a fix must name the right one)."""
    maybe_null: bool = False
    """True when on some merged path the variable held nothing (allocation was conditional)."""
    guard: tuple[int, frozenset[int]] | None = None
    """Set for a block a callee stored through an out-parameter: (id of the call, the return
    values with which it did); a test of that return value empties the other branch."""


@dataclass(frozen=True)
class Freed:
    """The variable's resource was released."""

    line: int
    """Line of the release."""
    alloc_line: int
    """Line of the allocation, or of the release when unknown."""
    definite: bool = True
    """True when released on every path reaching this point."""
    block: str = ""
    """Identity of the released resource."""
    resource: str = "memory"
    """Resource kind."""


@dataclass(frozen=True)
class Null:
    """The variable holds no resource (null, or declared without an initialiser)."""

    failed: bool = False
    """True when it is null because its allocation failed (a null check's failing branch)."""


NULL = Null()
FAILED = Null(failed=True)
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
    if isinstance(x, Null) and isinstance(y, Null):
        return NULL
    if isinstance(y, Owned) and not isinstance(x, Owned):
        x, y = y, x
    if isinstance(x, Owned):
        if isinstance(y, Owned):
            later = x if x.anchor_line >= y.anchor_line else y
            return replace(later, alloc_line=min(x.alloc_line, y.alloc_line), loop=x.loop or y.loop,
                           at_decl=x.at_decl and y.at_decl, mixed=x.mixed or y.mixed,
                           freed_at=x.freed_at or y.freed_at, aliased=x.aliased or y.aliased,
                           maybe_null=x.maybe_null or y.maybe_null,
                           guard=x.guard if x.guard == y.guard else None,
                           param=x.param if x.param == y.param else None)
        # Null on the other path is harmless (free(NULL) is fine); freed or escaped is not.
        if isinstance(y, Null):
            # Only a path that never allocated makes the allocation conditional.
            return x if y.failed else replace(x, maybe_null=True)
        return replace(x, mixed=True, freed_at=y.line if isinstance(y, Freed) else x.freed_at)
    if isinstance(y, Freed) and not isinstance(x, Freed):
        x, y = y, x
    if isinstance(x, Freed):
        if isinstance(y, Null):
            return x  # null on the other path: freeing again there is harmless, using is not
        both = isinstance(y, Freed) and x.definite and y.definite
        return replace(x, line=min(x.line, y.line) if isinstance(y, Freed) else x.line, definite=both)
    return None  # Null joined with unknown is unknown


def holders(state: State, block: str, skip: str | None = None) -> list[str]:
    """Keys other than ``skip`` whose state is the owned ``block``."""
    return [key for key, value in state.items()
            if key != skip and isinstance(value, Owned) and value.block == block]


def null_facts(cond: c_ast.Node | None, truth: bool) -> list[tuple[c_ast.Node, bool]]:
    """Facts ``(variable expression, holds nothing)`` that hold when ``cond`` is ``truth``.

    Pointers hold nothing when null; descriptors when negative (``fd < 0``, ``fd == -1``).
    """
    cond = strip_casts(cond)
    if isinstance(cond, c_ast.ID | c_ast.StructRef):
        return [(cond, not truth)]
    if isinstance(cond, c_ast.Assignment) and cond.op == "=":
        return [(cond.lvalue, not truth)]
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
            if _is_minus_one(cond.right) or _is_minus_one(cond.left):
                subject = cond.left if _is_minus_one(cond.right) else cond.right
                return _descriptor_fact(subject, truth if cond.op == "!=" else not truth)
        if cond.op in ("<", ">=") and is_null(cond.right):
            return _descriptor_fact(cond.left, truth if cond.op == ">=" else not truth)
        if cond.op in (">", "<=") and _is_minus_one(cond.right):
            return _descriptor_fact(cond.left, truth if cond.op == ">" else not truth)
    return []


def _descriptor_fact(node: c_ast.Node | None, valid: bool) -> list[tuple[c_ast.Node, bool]]:
    node = strip_casts(node)
    if isinstance(node, c_ast.Assignment) and node.op == "=":
        node = node.lvalue
    return [(node, not valid)] if node is not None else []


def _is_minus_one(node: c_ast.Node | None) -> bool:
    node = strip_casts(node)
    return (isinstance(node, c_ast.UnaryOp) and node.op == "-"
            and isinstance(node.expr, c_ast.Constant) and node.expr.value == "1")
