"""How C expressions use pointer variables: the event layer under the leak analysis.

An expression is turned into an ordered list of :data:`Event` values (a variable is borrowed,
escapes, is freed, is assigned) in evaluation order. The path walker in :mod:`analysis.c_paths`
replays those events against its ownership state, and :func:`borrowing_params` uses the same events
to summarise which parameters a function only borrows.

The classification is deliberately conservative: any use we do not recognise as harmless counts as
an *escape* (ownership may have left), because the analysis prefers silence to a false alarm.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from enum import Enum

from pycparser import c_ast

ALLOCATORS: frozenset[str] = frozenset(
    {"malloc", "calloc", "realloc", "strdup", "strndup", "aligned_alloc", "reallocarray"}
)
"""Functions whose result is a fresh heap block the caller owns."""

FREES: frozenset[str] = frozenset({"free"})
"""Functions that release the block passed as their first argument."""

NORETURN: frozenset[str] = frozenset(
    {"exit", "_exit", "_Exit", "abort", "quick_exit", "longjmp", "siglongjmp", "pthread_exit",
     "__assert_fail", "err", "errx", "verr", "verrx"}
)
"""Calls that end the path: the process (or thread) is gone, so nothing leaks after them."""

PURE_BORROWERS: frozenset[str] = frozenset(
    {"memset", "memcpy", "memmove", "memcmp", "memchr", "strlen", "strnlen", "strcpy", "strncpy",
     "strcat", "strncat", "strcmp", "strncmp", "strcasecmp", "strncasecmp", "strchr", "strrchr",
     "strstr", "strspn", "strcspn", "strpbrk", "strtok", "strtol", "strtoul", "strtoll",
     "strtoull", "strtod", "strtof", "atoi", "atol", "atoll", "atof", "printf", "fprintf",
     "sprintf", "snprintf", "vprintf", "vfprintf", "vsprintf", "vsnprintf", "dprintf", "puts",
     "fputs", "fputc", "putc", "fwrite", "fread", "fgets", "read", "write", "pread", "pwrite",
     "send", "recv", "sscanf", "scanf", "fscanf", "qsort", "bsearch", "perror", "toupper",
     "tolower"}
)
"""libc functions that read or write through a pointer but never keep or free it."""

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
    """What one occurrence of a variable does to the block it holds."""

    BORROW = "borrow"
    """Read or written through; ownership stays."""
    COND = "cond"
    """Only compared or tested."""
    ESCAPE = "escape"
    """Copied somewhere we cannot follow; ownership may have left."""
    FREE = "free"
    """Released."""


@dataclass(frozen=True)
class Use:
    """A variable occurs in an expression."""

    name: str
    """Identifier."""
    kind: UseKind
    """What the occurrence does."""
    line: int
    """Source line of the occurrence."""


@dataclass(frozen=True)
class Assign:
    """A plain ``name = value`` (or an initialised declaration) completes."""

    name: str
    """Identifier assigned."""
    line: int
    """Source line of the assignment."""
    alloc: str | None
    """The allocator called, when the value is a fresh heap block."""
    null: bool
    """True when the value is a null pointer constant."""


@dataclass(frozen=True)
class NoReturn:
    """A call that never returns (``exit``, ``abort``)."""

    line: int
    """Source line of the call."""


Event = Use | Assign | NoReturn
"""One step of an expression's evaluation, as the ownership analysis sees it."""

Borrows = Callable[[str, int], bool]
"""``borrows(callee, index)`` tells whether a same-TU function only borrows that argument."""

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
    """Return the called function's name, ``None`` for calls through a pointer."""
    return call.name.name if isinstance(call.name, c_ast.ID) else None


def allocator_of(node: c_ast.Node | None) -> str | None:
    """Return the allocator's name when ``node`` is (a cast of) an allocation call."""
    node = strip_casts(node)
    if isinstance(node, c_ast.FuncCall):
        name = callee_name(node)
        if name in ALLOCATORS:
            return name
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


def expr_events(node: c_ast.Node | None, ctx: Ctx, borrows: Borrows) -> list[Event]:
    """Turn an expression into ownership events, in evaluation order.

    Args:
        node: The expression (``None`` is allowed and yields nothing).
        ctx: What the enclosing statement does with the expression's value.
        borrows: Summary of same-TU functions, see :data:`Borrows`.

    Returns:
        The events.
    """
    out: list[Event] = []
    _Walker(borrows, out).walk(node, ctx)
    return out


def assign_events(name: str, value: c_ast.Node | None, line: int, borrows: Borrows) -> list[Event]:
    """Events for ``name = value`` (also used for ``T *name = value;`` declarations).

    Args:
        name: Variable assigned.
        value: Right-hand side.
        line: Line of the assignment.
        borrows: Summary of same-TU functions.

    Returns:
        The right-hand side's events followed by the :class:`Assign`.
    """
    out = expr_events(value, Ctx.VALUE, borrows)
    out.append(Assign(name, line, allocator_of(value), is_null(value)))
    return out


class _Walker:
    """Recursive expression walker that appends events to ``out``."""

    def __init__(self, borrows: Borrows, out: list[Event]) -> None:
        self.borrows = borrows
        self.out = out

    def use(self, node: c_ast.ID, kind: UseKind) -> None:
        self.out.append(Use(node.name, kind, line_of(node)))

    def walk(self, node: c_ast.Node | None, ctx: Ctx) -> None:  # noqa: C901 - a flat dispatch
        if node is None:
            return
        if isinstance(node, c_ast.ID):
            self.use(node, _CTX_TO_KIND[ctx])
        elif isinstance(node, c_ast.Cast):
            self.walk(node.expr, ctx)
        elif isinstance(node, c_ast.Constant | c_ast.Typename):
            return
        elif isinstance(node, c_ast.ArrayRef | c_ast.StructRef):
            # p[i] and p->f read or write the pointee; the pointer itself stays put.
            self.walk(node.name, Ctx.BORROW)
            if isinstance(node, c_ast.ArrayRef):
                self.walk(node.subscript, Ctx.BORROW)
        elif isinstance(node, c_ast.UnaryOp):
            self.unary(node, ctx)
        elif isinstance(node, c_ast.BinaryOp):
            if node.op in _COMPARISONS:
                sub = Ctx.COND
            elif node.op in _POINTER_ARITHMETIC:
                # p + n is a derived pointer that may be stored; only a deref of it is harmless.
                sub = Ctx.VALUE if ctx is Ctx.VALUE else Ctx.BORROW
            else:
                sub = Ctx.BORROW
            self.walk(node.left, sub)
            self.walk(node.right, sub)
        elif isinstance(node, c_ast.TernaryOp):
            self.walk(node.cond, Ctx.COND)
            self.walk(node.iftrue, ctx)
            self.walk(node.iffalse, ctx)
        elif isinstance(node, c_ast.ExprList):
            exprs = list(node.exprs or [])
            for i, expr in enumerate(exprs):
                self.walk(expr, ctx if i == len(exprs) - 1 else Ctx.BORROW)
        elif isinstance(node, c_ast.FuncCall):
            self.call(node)
        elif isinstance(node, c_ast.Assignment):
            self.assignment(node)
        else:
            # Initialiser lists, compound literals, generic selections ...: anything a pointer
            # meets here may be stored, so it escapes.
            for _, child in node.children():
                self.walk(child, Ctx.VALUE)

    def unary(self, node: c_ast.UnaryOp, ctx: Ctx) -> None:
        if node.op in ("sizeof", "_Alignof", "alignof"):
            return  # not evaluated
        if node.op == "&":
            # &p, &p->f, &p[i]: a pointer to (part of) the variable leaves our sight.
            for ident in _ids(node.expr):
                self.use(ident, UseKind.ESCAPE)
        elif node.op in ("++", "--", "p++", "p--"):
            # The pointer moves: the original block can no longer be freed through it.
            self.walk(node.expr, Ctx.VALUE)
        elif node.op == "!":
            self.walk(node.expr, Ctx.COND)
        else:  # "*", "-", "+", "~"
            self.walk(node.expr, Ctx.BORROW)

    def call(self, node: c_ast.FuncCall) -> None:
        name = callee_name(node)
        args = call_args(node)
        if name is None:
            self.walk(node.name, Ctx.BORROW)
            for arg in args:
                self.walk(arg, Ctx.VALUE)
            return
        if name in FREES and args:
            target = strip_casts(args[0])
            if isinstance(target, c_ast.ID):
                self.use(target, UseKind.FREE)
            else:
                self.walk(target, Ctx.BORROW)
            for arg in args[1:]:
                self.walk(arg, Ctx.BORROW)
            return
        for index, arg in enumerate(args):
            if name == "realloc" and index == 0:
                ctx = Ctx.VALUE  # realloc consumes the old block; the result is a new one
            elif name in PURE_BORROWERS or name in NORETURN or name in ALLOCATORS:
                ctx = Ctx.BORROW
            elif self.borrows(name, index):
                ctx = Ctx.BORROW
            else:
                ctx = Ctx.VALUE  # unknown callee: it may keep the pointer
            self.walk(arg, ctx)
        if name in NORETURN:
            self.out.append(NoReturn(line_of(node)))

    def assignment(self, node: c_ast.Assignment) -> None:
        target = strip_casts(node.lvalue)
        if isinstance(target, c_ast.ID):
            if node.op == "=":
                self.out.extend(assign_events(target.name, node.rvalue, line_of(node), self.borrows))
                return
            # p += n moves the pointer; for integers the escape is harmless (never tracked).
            self.walk(node.rvalue, Ctx.BORROW)
            self.use(target, UseKind.ESCAPE)
            return
        # Stored through a pointer, into a field or an array element: the value escapes.
        self.walk(node.rvalue, Ctx.VALUE)
        self.walk(node.lvalue, Ctx.BORROW)


def _ids(node: c_ast.Node | None) -> Iterator[c_ast.ID]:
    """Yield every identifier under ``node``."""
    if node is None:
        return
    if isinstance(node, c_ast.ID):
        yield node
        return
    for _, child in node.children():
        yield from _ids(child)
