"""The vocabulary of the ownership analysis: events, effects and variable paths.

An expression becomes an ordered list of :data:`Event` values (see :mod:`analysis.c_uses`);
a variable is named by a *path*: ``p``, a field of a local structure ``s.f``, the elements of a
local array ``a[]``, or what a pointer points to, ``p->f`` and ``*p`` (weak paths: facts about
them are dropped whenever a call or a store might change them).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Protocol

from pycparser import c_ast

_COMPARISONS = frozenset({"==", "!=", "<", ">", "<=", ">=", "&&", "||"})
_POINTER_ARITHMETIC = frozenset({"+", "-"})


class Ctx(Enum):
    """What the surrounding expression does with a value."""

    VALUE = "value"
    """The value is kept (assigned, returned, passed on): a bare pointer here escapes."""
    BORROW = "borrow"
    """The value is only read through or discarded."""
    COND = "cond"
    """The value is only tested (``if (p)``, ``p == NULL``)."""


class UseKind(Enum):
    """What one occurrence of a variable does to the resource it holds."""

    BORROW = "borrow"
    """Read or written through; ownership stays."""
    COND = "cond"
    """Only compared, tested or copied into a tracked variable."""
    ESCAPE = "escape"
    """Copied somewhere we cannot follow; ownership may have left."""
    FREE = "free"
    """Released (``free``, ``fclose``, ``close`` or a function whose summary releases it)."""
    MOVE = "move"
    """Moved inside its block (``p++``, ``p += n``): no longer the block's start."""


class Effect(Enum):
    """What a called function does with one argument."""

    BORROW = "borrow"
    """Uses it and gives it back."""
    RELEASE = "release"
    """Releases it on every path."""
    KEEP = "keep"
    """May keep it (store it, return it, release it on some paths): ownership leaves."""


class Callees(Protocol):
    """What the analysis knows about called functions (library tables and summaries)."""

    def effect(self, callee: str, index: int) -> Effect:
        """What ``callee`` does with its argument number ``index``."""
        ...

    def allocates(self, callee: str) -> str | None:
        """The resource kind ``callee`` returns fresh, or None."""
        ...

    def noreturn(self, callee: str) -> bool:
        """True when a call to ``callee`` never returns."""
        ...

    def allocated_members(self, callee: str) -> tuple[tuple[str, str], ...]:
        """Fields of the block an allocator returns that hold fresh blocks of their own."""
        ...

    def returned_fields(self, callee: str) -> tuple[tuple[str, str], ...]:
        """Fields (and resource kinds) of a returned structure that hold fresh resources."""
        ...

    def out_allocs(self, callee: str, index: int
                   ) -> tuple[tuple[str, str, frozenset[int] | None], ...]:
        """What ``callee`` stores through pointer argument ``index``: (field or ``*``, resource
        kind, return values with which it is stored, or None for always)."""
        ...

    def consumes(self, callee: str) -> int | None:
        """Index of the argument whose resource ``callee`` takes over (``realloc``: 0)."""
        ...


@dataclass(frozen=True)
class Use:
    """A variable occurs in an expression."""

    name: str
    """Variable path."""
    kind: UseKind
    """What the occurrence does."""
    line: int
    """Source line of the occurrence."""
    via: str | None = None
    """For a release by a called function's summary: that function (not ``free`` itself)."""


@dataclass(frozen=True)
class Assign:
    """A plain ``name = value`` (or an initialised declaration) completes."""

    name: str
    """Variable path assigned."""
    line: int
    """Source line of the assignment."""
    alloc: str | None
    """Resource kind when the value is a fresh resource (``memory``, ``file``, ``fd``)."""
    null: bool
    """True when the value is a null pointer constant."""
    copy_of: str | None = None
    """The variable path copied, for ``q = p``."""
    consumes: str | None = None
    """The variable path whose resource the allocator takes over (``realloc(p, n)``)."""
    allocator: str | None = None
    """The function called, when ``alloc`` is set."""
    guard: tuple[int, frozenset[int]] | None = None
    """For a block a callee stores through an out-parameter: (id of the call node, the return
    values with which the block is really there)."""
    call: int | None = None
    """Id of the call node whose result is assigned (to follow ``rc = f(&p); if (rc)``)."""


@dataclass(frozen=True)
class Clobber:
    """A call that may change what pointers point to (their weak paths are forgotten)."""

    bases: tuple[str, ...] | None
    """Variables whose pointees may change; None for any."""


@dataclass(frozen=True)
class NoReturn:
    """A call that never returns (``exit``, ``abort``)."""

    line: int
    """Source line of the call."""


Event = Use | Assign | NoReturn | Clobber
"""One step of an expression's evaluation, as the ownership analysis sees it."""

_CTX_TO_KIND = {Ctx.VALUE: UseKind.ESCAPE, Ctx.BORROW: UseKind.BORROW, Ctx.COND: UseKind.COND}


def line_of(node: c_ast.Node | None) -> int:
    """Return a node's source line, 0 when pycparser recorded none."""
    coord = getattr(node, "coord", None)
    return int(coord.line) if coord is not None and coord.line is not None else 0


def strip_casts(node: c_ast.Node | None) -> c_ast.Node | None:
    """Return the expression under any number of casts."""
    while isinstance(node, c_ast.Cast):
        node = node.expr
    return node


def callee_name(call: c_ast.FuncCall) -> str | None:
    """Return the called function's name, ``None`` for calls through an expression."""
    return call.name.name if isinstance(call.name, c_ast.ID) else None


def var_path(node: c_ast.Node | None) -> str | None:
    """``p`` for an identifier, ``s.f`` for a field of a structure variable, else None."""
    node = strip_casts(node)
    if isinstance(node, c_ast.ID):
        return node.name
    if (isinstance(node, c_ast.StructRef) and node.type == "." and isinstance(node.name, c_ast.ID)
            and isinstance(node.field, c_ast.ID)):
        return f"{node.name.name}.{node.field.name}"
    return None


def is_null(node: c_ast.Node | None) -> bool:
    """Return True for ``0``, ``NULL`` and ``(void *)0``."""
    node = strip_casts(node)
    if isinstance(node, c_ast.Constant):
        return node.value.rstrip("uUlL") in ("0", "0x0", "00")
    return isinstance(node, c_ast.ID) and node.name in ("NULL", "nullptr")


def call_args(call: c_ast.FuncCall) -> list[c_ast.Node]:
    """Return a call's argument expressions."""
    return list(call.args.exprs) if isinstance(call.args, c_ast.ExprList) else []




def deref_path(node: c_ast.Node | None) -> str | None:
    """``p->f`` or ``*p`` for what a pointer variable points to, else None."""
    node = strip_casts(node)
    if (isinstance(node, c_ast.StructRef) and node.type == "->" and isinstance(node.name, c_ast.ID)
            and isinstance(node.field, c_ast.ID)):
        return f"{node.name.name}->{node.field.name}"
    if isinstance(node, c_ast.UnaryOp) and node.op == "*" and isinstance(node.expr, c_ast.ID):
        return f"*{node.expr.name}"
    return None


def weak_base(path: str) -> tuple[str, str] | None:
    """``(base, field)`` of a weak path (``*`` as the field of ``*p``), else None."""
    if path.startswith("*"):
        return path[1:], "*"
    base, arrow, member = path.partition("->")
    return (base, member) if arrow else None
