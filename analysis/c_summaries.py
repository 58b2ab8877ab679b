"""Per-function summaries and the call graph they are computed over, bottom-up.

A summary says what a function does with each parameter (borrows, releases on every path, or may
keep it), whether it returns a fresh resource (an allocator wrapper), and whether it can return at
all. Summaries are computed callee first, so a caller's walk sees its callees' summaries; inside a
recursive cycle the not-yet-summarised members are unknown (may keep: the silent side).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from pycparser import c_ast

from analysis.c_libc import ALLOCATORS, BORROWERS, CONSUMES_FIRST, NORETURN, RELEASES
from analysis.c_uses import Effect, callee_name


@dataclass(frozen=True)
class Summary:
    """What one function does, as its callers see it."""

    params: tuple[Effect, ...] = ()
    """Effect on each parameter, by index."""
    allocates: str | None = None
    """Resource kind of the fresh resource every non-null return yields, if any."""
    noreturn: bool = False
    """True when no path reaches a return."""
    consumes: int | None = None
    """Parameter whose block the returned one replaces (a ``realloc`` wrapper)."""
    allocated_members: tuple[tuple[str, str], ...] = ()
    """For an allocator: fields of the returned block (``p->f``) that hold fresh blocks."""
    returned_fields: tuple[tuple[str, str], ...] = ()
    """Fields of the structure returned by value that hold a fresh resource, with its kind."""
    out_allocs: tuple[tuple[int, str, str, frozenset[int] | None], ...] = ()
    """Fresh resources stored through pointer parameters: (parameter, field or ``*``, kind,
    the return values with which it is stored or None for always)."""


@dataclass
class UnitCallees:
    """Library tables, prototypes and summaries of one translation unit (see ``Callees``)."""

    summaries: dict[str, Summary] = field(default_factory=dict)
    """Summaries of the functions walked so far."""
    const_params: dict[str, frozenset[int]] = field(default_factory=dict)
    """Prototype-only functions -> indexes of their ``const T *`` parameters."""
    defined: frozenset[str] = frozenset()
    """Functions with a body in the unit (unknown until summarised)."""
    aliases: dict[str, str] = field(default_factory=dict)
    """Function-pointer variables that always hold one known function."""

    def effect(self, callee: str, index: int) -> Effect:
        """What ``callee`` does with argument ``index``."""
        callee = self.aliases.get(callee, callee)
        summary = self.summaries.get(callee)
        if summary is not None:
            return summary.params[index] if index < len(summary.params) else Effect.KEEP
        if callee in self.defined:
            return Effect.KEEP  # recursive, not summarised yet: may keep
        if callee in RELEASES:
            return Effect.RELEASE if index == 0 else Effect.BORROW
        if callee in CONSUMES_FIRST and index == 0:
            return Effect.KEEP
        if callee in BORROWERS or callee in ALLOCATORS or callee in NORETURN:
            return Effect.BORROW
        if index in self.const_params.get(callee, ()):
            return Effect.BORROW
        return Effect.KEEP

    def allocates(self, callee: str) -> str | None:
        """The resource kind ``callee`` returns fresh."""
        callee = self.aliases.get(callee, callee)
        summary = self.summaries.get(callee)
        if summary is not None:
            return summary.allocates
        return None if callee in self.defined else ALLOCATORS.get(callee)

    def consumes(self, callee: str) -> int | None:
        """Index of the argument whose resource ``callee`` takes over."""
        callee = self.aliases.get(callee, callee)
        summary = self.summaries.get(callee)
        if summary is not None:
            return summary.consumes
        return 0 if callee in CONSUMES_FIRST and callee not in self.defined else None

    def allocated_members(self, callee: str) -> tuple[tuple[str, str], ...]:
        """Fields of the block an allocator returns that hold fresh blocks of their own."""
        summary = self.summaries.get(self.aliases.get(callee, callee))
        return summary.allocated_members if summary is not None else ()

    def returned_fields(self, callee: str) -> tuple[tuple[str, str], ...]:
        """Fresh fields of the structure ``callee`` returns by value."""
        summary = self.summaries.get(self.aliases.get(callee, callee))
        return summary.returned_fields if summary is not None else ()

    def out_allocs(self, callee: str, index: int
                   ) -> tuple[tuple[str, str, frozenset[int] | None], ...]:
        """What ``callee`` stores fresh through pointer argument ``index``."""
        summary = self.summaries.get(self.aliases.get(callee, callee))
        if summary is None:
            return ()
        return tuple((member, kind, values) for param, member, kind, values in summary.out_allocs
                     if param == index)

    def noreturn(self, callee: str) -> bool:
        """True when ``callee`` never returns."""
        summary = self.summaries.get(self.aliases.get(callee, callee))
        return summary.noreturn if summary is not None else callee in NORETURN


def const_pointer_params(ext: Iterable[c_ast.Node]) -> dict[str, frozenset[int]]:
    """Parameters declared ``const T *`` in every prototype of the unit, by function."""
    out: dict[str, frozenset[int]] = {}
    for node in ext:
        if not (isinstance(node, c_ast.Decl) and isinstance(node.type, c_ast.FuncDecl)):
            continue
        params = getattr(node.type.args, "params", None) or []
        const = {index for index, param in enumerate(params)
                 if isinstance(param, c_ast.Decl) and _points_to_const(param.type)}
        out[node.name] = frozenset(const)
    return out


def _points_to_const(node: c_ast.Node) -> bool:
    if not isinstance(node, c_ast.PtrDecl):
        return False
    inner = node.type
    return isinstance(inner, c_ast.TypeDecl) and "const" in (inner.quals or [])


def calls_in(node: c_ast.Node | None) -> set[str]:
    """Names of every function called, or mentioned as a value, under ``node``."""
    out: set[str] = set()
    stack = [node] if node is not None else []
    while stack:
        current = stack.pop()
        if isinstance(current, c_ast.FuncCall) and (name := callee_name(current)):
            out.add(name)
        elif isinstance(current, c_ast.ID):
            out.add(current.name)  # a function used as a pointer value may be called later
        stack.extend(child for _, child in current.children())
    return out


def bottom_up(functions: dict[str, c_ast.FuncDef], roots: Iterable[str] | None = None
              ) -> list[str]:
    """Function names ordered callees first (post-order over the call graph).

    Args:
        functions: Definitions by name.
        roots: Start from these (and what they reach); every function when None.

    Returns:
        The order in which to walk them.
    """
    graph = {name: sorted(calls_in(func.body) & functions.keys() - {name})
             for name, func in functions.items()}
    order: list[str] = []
    seen: set[str] = set()
    for root in (sorted(functions) if roots is None else sorted(set(roots) & functions.keys())):
        if root in seen:
            continue
        seen.add(root)
        stack: list[tuple[str, int]] = [(root, 0)]
        while stack:
            name, index = stack.pop()
            callees = graph[name]
            if index < len(callees):
                stack.append((name, index + 1))
                nxt = callees[index]
                if nxt not in seen:
                    seen.add(nxt)
                    stack.append((nxt, 0))
            else:
                order.append(name)
    return order
