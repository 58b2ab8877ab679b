"""How C expressions use variables: the event layer under the ownership analysis.

An expression is turned into an ordered list of :data:`Event` values (a variable is borrowed,
escapes, is released, is assigned) in evaluation order. The path walker replays those events
against its ownership state; the same walk yields the per-function summaries.

Variables are named by *paths*: a plain identifier (``p``) or one field of a local structure
(``s.buf``). The classification is deliberately conservative: any use we do not recognise as
harmless counts as an *escape* (ownership may have left), because the analysis prefers silence
to a false alarm.
"""

from __future__ import annotations

from collections.abc import Iterator

from pycparser import c_ast
from pycparser.c_generator import CGenerator

from analysis.c_events import (
    _COMPARISONS,
    _CTX_TO_KIND,
    _POINTER_ARITHMETIC,
    Assign,
    Callees,
    Clobber,
    Ctx,
    Effect,
    Event,
    NoReturn,
    Use,
    UseKind,
    call_args,
    callee_name,
    deref_path,
    is_null,
    line_of,
    strip_casts,
    var_path,
)
from analysis.c_libc import ALLOCATORS, BORROWERS, NORETURN, RELEASES

__all__ = ["Assign", "Callees", "Ctx", "Effect", "Event", "NoReturn", "Use", "UseKind",
           "assign_events", "call_args", "callee_name", "expr_events", "is_null", "line_of",
           "strip_casts", "var_path"]

def expr_events(node: c_ast.Node | None, ctx: Ctx, callees: Callees) -> list[Event]:
    """Turn an expression into ownership events, in evaluation order.

    Args:
        node: The expression (``None`` is allowed and yields nothing).
        ctx: What the enclosing statement does with the expression's value.
        callees: Library tables and summaries of called functions.

    Returns:
        The events.
    """
    out: list[Event] = []
    _Walker(callees, out).walk(node, ctx)
    return out


def assign_events(name: str, value: c_ast.Node | None, line: int, callees: Callees) -> list[Event]:
    """Events for ``name = value`` (also used for ``T *name = value;`` declarations).

    Args:
        name: Variable path assigned.
        value: Right-hand side.
        line: Line of the assignment.
        callees: Library tables and summaries.

    Returns:
        The right-hand side's events followed by the :class:`Assign`.
    """
    out: list[Event] = []
    walker = _Walker(callees, out)
    stripped = strip_casts(value)
    source = var_path(stripped)
    if source is not None:
        out.append(Use(source, UseKind.COND, line))
        out.append(Assign(name, line, None, is_null(stripped), copy_of=source))
        return out
    if (isinstance(stripped, c_ast.Assignment) and stripped.op == "="
            and var_path(stripped.lvalue) is not None):
        inner = var_path(stripped.lvalue)
        walker.assignment(stripped)
        out.append(Assign(name, line, None, False, copy_of=inner))
        return out
    if isinstance(stripped, c_ast.FuncCall) and (callee := callee_name(stripped)) is not None:
        kind = callees.allocates(callee)
        if kind is not None:
            args = call_args(stripped)
            index = callees.consumes(callee)
            consumed = (_text_path(args[index]) if index is not None and index < len(args)
                        else None)
            if consumed is not None:
                out.append(Use(consumed, UseKind.COND, line))
                for position, arg in enumerate(args):
                    if position != index:
                        walker.walk(arg, Ctx.BORROW)
            else:
                walker.call(stripped)
            out.append(Assign(name, line, kind, False, consumes=consumed, allocator=callee))
            if consumed is None and "." not in name and "->" not in name:
                out.extend(Assign(f"{name}->{member}", line, member_kind, False, allocator=callee)
                           for member, member_kind in callees.allocated_members(callee))
            return out
    walker.walk(value, Ctx.VALUE)
    call = id(stripped) if isinstance(stripped, c_ast.FuncCall) else None
    out.append(Assign(name, line, None, is_null(value), call=call))
    if isinstance(stripped, c_ast.FuncCall) and (callee := callee_name(stripped)) is not None:
        # A structure returned by value with fresh fields: `struct span s = span_from(x);`
        out.extend(Assign(f"{name}.{member}", line, kind, False, allocator=callee)
                   for member, kind in callees.returned_fields(callee))
    return out


class _Walker:
    """Recursive expression walker that appends events to ``out``."""

    def __init__(self, callees: Callees, out: list[Event]) -> None:
        self.callees = callees
        self.out = out

    def use(self, name: str, kind: UseKind, line: int) -> None:
        self.out.append(Use(name, kind, line))

    def walk(self, node: c_ast.Node | None, ctx: Ctx) -> None:
        if node is None:
            return
        if isinstance(node, c_ast.ID):
            self.use(node.name, _CTX_TO_KIND[ctx], line_of(node))
        elif isinstance(node, c_ast.Cast):
            self.walk(node.expr, ctx)
        elif isinstance(node, c_ast.Constant | c_ast.Typename):
            return
        elif isinstance(node, c_ast.StructRef) and (path := var_path(node)) is not None:
            self.use(path, _CTX_TO_KIND[ctx], line_of(node))
        elif isinstance(node, c_ast.ArrayRef | c_ast.StructRef):
            # p[i] and p->f read or write the pointee; the pointer itself stays put.
            if (weak := deref_path(node)) is not None:
                self.use(weak, _CTX_TO_KIND[ctx], line_of(node))
            if ctx is Ctx.VALUE and (elements := _elements(node)) is not None:
                self.use(elements, UseKind.ESCAPE, line_of(node))  # a[i] copied somewhere
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
            if ctx is Ctx.VALUE and (path := var_path(node.lvalue)) is not None:
                self.use(path, UseKind.ESCAPE, line_of(node))  # `x = (p = q)` keeps p's value
        else:
            # Initialiser lists, compound literals, generic selections ...: anything a pointer
            # meets here may be stored, so it escapes.
            for _, child in node.children():
                self.walk(child, Ctx.VALUE)

    def unary(self, node: c_ast.UnaryOp, ctx: Ctx) -> None:
        if node.op in ("sizeof", "_Alignof", "alignof"):
            return  # not evaluated
        if node.op == "&":
            inner = strip_casts(node.expr)
            interior = isinstance(inner, c_ast.ArrayRef) or (
                isinstance(inner, c_ast.StructRef) and inner.type == "->")
            if ctx is not Ctx.VALUE and interior:
                self.walk(inner, Ctx.BORROW)  # &p[i] lent to a borrower: p itself stays put
                return
            # &p, &p->f, &p[i]: a pointer to (part of) the variable leaves our sight.
            for ident in _ids(node.expr):
                self.use(ident.name, UseKind.ESCAPE, line_of(ident))
        elif node.op in ("++", "--", "p++", "p--"):
            # The pointer moves: the original block can no longer be freed through it.
            path = var_path(node.expr)
            if path is not None:
                self.use(path, UseKind.MOVE, line_of(node))
                if ctx is Ctx.VALUE:
                    self.use(path, UseKind.ESCAPE, line_of(node))
            else:
                self.walk(node.expr, Ctx.BORROW)
        elif node.op == "!":
            self.walk(node.expr, Ctx.COND)
        else:  # "*", "-", "+", "~"
            if node.op == "*" and (weak := deref_path(node)) is not None:
                self.use(weak, _CTX_TO_KIND[ctx], line_of(node))
            self.walk(node.expr, Ctx.BORROW)

    def call(self, node: c_ast.FuncCall) -> None:
        name = callee_name(node)
        args = call_args(node)
        if name is None:
            self.walk(node.name, Ctx.BORROW)
            for arg in args:
                self.walk(arg, Ctx.VALUE)
            return
        for index, arg in enumerate(args):
            effect = self.callees.effect(name, index)
            if effect is Effect.RELEASE:
                target = var_path(arg) or _elements(strip_casts(arg)) or deref_path(arg)
                if target is not None:
                    if (weak := deref_path(arg)) is not None:
                        self.walk(strip_casts(arg).children()[0][1], Ctx.BORROW)
                        target = weak
                    self.out.append(Use(target, UseKind.FREE, line_of(node),
                                        via=None if name in RELEASES else name))
                else:
                    self.walk(arg, Ctx.BORROW)
            else:
                self.walk(arg, Ctx.BORROW if effect is Effect.BORROW else Ctx.VALUE)
        library = name in BORROWERS or name in RELEASES or name in ALLOCATORS or name in NORETURN
        bases = tuple(path for arg in args if (path := var_path(_address_of(arg) or arg)))
        self.out.append(Clobber(bases if library else None))
        for index, arg in enumerate(args):
            target = var_path(_address_of(arg))
            for member, kind, values in self.callees.out_allocs(name, index) if target else ():
                path = target if member == "*" else f"{target}.{member}"
                self.out.append(Assign(path, line_of(node), kind, False, allocator=name,
                                       guard=(id(node), values) if values is not None else None))
        if self.callees.noreturn(name):
            self.out.append(NoReturn(line_of(node)))

    def assignment(self, node: c_ast.Assignment) -> None:
        target = var_path(node.lvalue)
        if target is not None:
            if node.op == "=":
                self.out.extend(assign_events(target, node.rvalue, line_of(node), self.callees))
                return
            # p += n moves the pointer (for an integer it changes the value: nothing owned).
            self.walk(node.rvalue, Ctx.BORROW)
            self.use(target, UseKind.MOVE if node.op in ("+=", "-=") else UseKind.ESCAPE,
                     line_of(node))
            return
        elements = _elements(strip_casts(node.lvalue))
        if elements is not None and node.op == "=":
            rvalue = strip_casts(node.rvalue)
            if (isinstance(rvalue, c_ast.FuncCall) and (callee := callee_name(rvalue))
                    and self.callees.allocates(callee) and self.callees.consumes(callee) is None):
                self.call(rvalue)
                self.walk(node.lvalue, Ctx.BORROW)
                self.out.append(Assign(elements, line_of(node), self.callees.allocates(callee),
                                       False, allocator=callee))
                return
        weak = deref_path(node.lvalue)
        if weak is not None and node.op == "=":
            # Stored through a pointer: followed under a weak path (p->f, *p).
            self.walk(strip_casts(node.lvalue).children()[0][1], Ctx.BORROW)
            self.out.extend(assign_events(weak, node.rvalue, line_of(node), self.callees))
            return
        # Stored into an array element or through an expression: the value escapes.
        self.walk(node.rvalue, Ctx.VALUE)
        self.walk(node.lvalue, Ctx.BORROW)
        rvalue = strip_casts(node.rvalue)
        if isinstance(rvalue, c_ast.FuncCall) and (callee := callee_name(rvalue)):
            index, args = self.callees.consumes(callee), call_args(rvalue)
            text = _text_path(node.lvalue)
            if index == 0 and args and text is not None and text == _text_path(args[0]):
                self.out.append(Assign(text, line_of(node), self.callees.allocates(callee), False,
                                       consumes=text, allocator=callee))


def _address_of(node: c_ast.Node | None) -> c_ast.Node | None:
    """``x`` for ``&x``, else None."""
    node = strip_casts(node)
    return node.expr if isinstance(node, c_ast.UnaryOp) and node.op == "&" else None


def _text_path(node: c_ast.Node | None) -> str | None:
    """A variable path for ``node``, or its source text for any other lvalue (``v->a[i]``)."""
    path = var_path(node) or deref_path(node)
    if path is not None:
        return path
    node = strip_casts(node)
    if isinstance(node, c_ast.StructRef | c_ast.ArrayRef | c_ast.UnaryOp):
        try:
            return "expr:" + CGenerator().visit(node)
        except (RecursionError, AttributeError, TypeError):
            return None
    return None


def _elements(node: c_ast.Node | None) -> str | None:
    """``a[]`` for an element ``a[i]`` of an array variable (all elements share one state)."""
    if isinstance(node, c_ast.ArrayRef) and isinstance(node.name, c_ast.ID):
        return f"{node.name.name}[]"
    return None


def _ids(node: c_ast.Node | None) -> Iterator[c_ast.ID]:
    """Yield every identifier under ``node``."""
    if node is None:
        return
    if isinstance(node, c_ast.ID):
        yield node
        return
    if isinstance(node, c_ast.StructRef):
        yield from _ids(node.name)  # the field name is not a variable
        return
    for _, child in node.children():
        yield from _ids(child)
