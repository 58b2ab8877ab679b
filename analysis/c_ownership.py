"""Ownership bookkeeping of the path walk: declaring variables, replaying events, losing blocks.

:class:`OwnershipCore` holds what a walk of one function knows at each point (scopes, the current
statement position, the loops it is in) and turns expression events into state changes and
findings. :class:`analysis.c_paths.FunctionWalker` adds the statements and control flow on top.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace

from pycparser import c_ast

from analysis.c_consts import Constants
from analysis.c_events import (
    Assign,
    Clobber,
    Event,
    NoReturn,
    Use,
    UseKind,
    weak_base,
)
from analysis.c_exits import ExitRecorder
from analysis.c_libc import REALLOCATORS
from analysis.c_places import Places
from analysis.c_state import NULL, Freed, Null, Owned, State, VarState, holders
from analysis.c_summaries import UnitCallees
from analysis.c_verdicts import Loop, Reporter
from analysis.model import FindingKind


@dataclass(frozen=True)
class Unit:
    """Facts about the translation unit shared by every function walk."""

    filename: str
    """Main file name (findings are reported for functions defined there)."""
    callees: UnitCallees
    """Library tables and summaries."""
    constants: Constants
    """Constant folding."""
    end_line: Callable[[c_ast.Node], int]
    """Last source line of a statement (closing brace line for a block)."""
    struct_types: frozenset[str] = frozenset()
    """Typedef names that name a structure (not a union)."""


@dataclass
class Scope:
    """One lexical scope: identifiers declared in it, mapped to state keys (None = untracked)."""

    names: dict[str, str | None] = field(default_factory=dict)
    block: c_ast.Compound | None = None
    loop: Loop | None = None
    """Set when this scope is that loop's body."""


class OwnershipCore(Places, ExitRecorder):
    """State transitions of one function walk; subclassed by the statement walker."""

    def __init__(self, func: c_ast.FuncDef, unit: Unit) -> None:
        """Prepare a walk.

        Args:
            func: The function definition.
            unit: Shared facts about the translation unit.
        """
        self.func = func
        self.unit = unit
        self.callees = unit.callees
        self.end_line = unit.end_line
        self.reporter = Reporter(unit.filename, func.decl.name)
        self.scopes: list[Scope] = []
        self.tracked: set[str] = set()
        self.structs: set[str] = set()
        self.lost_weak: set[str] = set()
        """Weak paths whose value was ever forgotten (not summarised as out-parameters)."""
        self.results: dict[str, int] = {}
        """Variable key -> id of the call whose result it holds (``rc = f(&p)``)."""
        self.arrays: set[str] = set()
        """Local arrays of pointers (their elements share one state, ``a[]``)."""
        self.pos: list[tuple[int, int]] = []
        self.direct = False
        """True while walking a statement that is itself an item of the innermost block."""
        self.loops: list[Loop] = []
        self.blocks: dict[int, c_ast.Compound] = {}
        self.in_decl = False
        self.init_exits()

    # -- declarations ------------------------------------------------------------------------

    def declare(self, scope: Scope, decl: c_ast.Decl) -> str | None:
        """Enter ``decl`` in ``scope`` and return its state key (None when not trackable)."""
        storage = decl.storage or []
        if "static" in storage or "extern" in storage or isinstance(decl.type, c_ast.FuncDecl):
            scope.names[decl.name] = None  # lives beyond the call: storing into it is an escape
            return None
        coord = decl.coord
        key = f"{decl.name}@{coord.line if coord else 0}:{coord.column if coord else 0}"
        scope.names[decl.name] = key
        kind = decl.type
        if isinstance(kind, c_ast.PtrDecl):
            self.tracked.add(key)
            if isinstance(kind.type, c_ast.FuncDecl) and isinstance(decl.init, c_ast.ID):
                self.callees.aliases[decl.name] = decl.init.name  # a fixed function pointer
        elif isinstance(kind, c_ast.ArrayDecl) and isinstance(kind.type, c_ast.PtrDecl):
            self.arrays.add(key)
            self.reporter.names[f"{key}[]"] = decl.name
        elif isinstance(kind, c_ast.TypeDecl):
            inner = kind.type
            if isinstance(inner, c_ast.Struct) or (
                    isinstance(inner, c_ast.IdentifierType)
                    and " ".join(inner.names) in self.unit.struct_types):
                self.structs.add(key)
            elif isinstance(inner, c_ast.IdentifierType):
                self.tracked.add(key)  # integers: descriptors live in them
        self.reporter.names[key] = decl.name
        return key

    def lookup(self, name: str) -> str | None:
        """The state key a name refers to in the current scopes (None for globals)."""
        for scope in reversed(self.scopes):
            if name in scope.names:
                return scope.names[name]
        return None

    def is_local(self, name: str) -> bool:
        """True when ``name`` is declared in the function (shadowing any global)."""
        return any(name in scope.names for scope in self.scopes)

    def resolve(self, path: str) -> str | None:
        """The tracked state key of a variable path (``p``, ``s.f``, ``a[]``, ``p->f``, ``*p``)."""
        weak = weak_base(path)
        if weak is not None:
            base = self.lookup(weak[0])
            if base is None or base not in self.tracked:
                return None
            weak_key = f"{base}->{weak[1]}"
            self.reporter.names.setdefault(weak_key, path)
            return weak_key
        if path.endswith("[]"):
            key = self.lookup(path[:-2])
            return f"{key}[]" if key is not None and key in self.arrays else None
        base, dot, member = path.partition(".")
        key = self.lookup(base)
        if key is None:
            return None
        if dot:
            if key not in self.structs:
                return None
            field_key = f"{key}.{member}"
            self.reporter.names.setdefault(field_key, path)
            return field_key
        return key if key in self.tracked else None

    # -- events ------------------------------------------------------------------------------

    def apply(self, events: list[Event], state: State | None) -> State | None:
        """Replay expression events on ``state`` (None once a call never returns)."""
        for event in events:
            if state is None or isinstance(event, NoReturn):
                return None
            if isinstance(event, Use):
                key = self.resolve(event.name)
                if key is not None:
                    self._use(key, state.get(key), event, state)
                elif event.kind is UseKind.ESCAPE:
                    container = self.lookup(event.name)
                    if container in self.structs or container in self.arrays:
                        for field_key in _fields(state, container):
                            self._escape(field_key, state)
            elif isinstance(event, Assign):
                self._assign(event, state)
            elif isinstance(event, Clobber):
                self._clobber(state, event.bases)
        return state

    def _clobber(self, state: State, bases: tuple[str, ...] | None, keep: str | None = None,
                 member: str | None = None) -> None:
        """Forget weak paths a call or a store may have changed (their blocks escape)."""
        prefixes = None if bases is None else tuple(
            f"{key}->" for base in bases if (key := self.lookup(base)) is not None)
        for key in [k for k in state if "->" in k and k != keep]:
            if prefixes is not None and not key.startswith(prefixes):
                continue
            if member is not None and key.rpartition("->")[2] != member:
                continue
            self.lost_weak.add(key)
            self._escape(key, state)

    def _use(self, key: str, current: VarState | None, use: Use, state: State) -> None:
        freed = isinstance(current, Freed) and current.definite
        if key.endswith("[]"):
            # An array of pointers: one state for all elements, no double free or use after free.
            if use.kind is UseKind.FREE and isinstance(current, Owned):
                state[key] = Freed(use.line, current.alloc_line, block=current.block)
            elif use.kind in (UseKind.ESCAPE, UseKind.MOVE):
                state.pop(key, None)
            return
        if use.kind is UseKind.FREE:
            if freed:
                self.reporter.after_free(key, current, use.line, FindingKind.DOUBLE_FREE)
            elif isinstance(current, Owned) and current.freed_at is not None:
                # Freed on a path that merged into this one: a double free on that path.
                self.reporter.after_free(key, Freed(current.freed_at, current.alloc_line),
                                         use.line, FindingKind.DOUBLE_FREE, maybe=True)
            if isinstance(current, Owned):
                released = Freed(use.line, current.alloc_line, definite=not current.mixed,
                                 block=current.block, resource=current.resource)
                dying = [key, *holders(state, current.block, skip=key)]
                for holder in dying:
                    state[holder] = released
                if use.via is None:  # a helper that frees may free the members too
                    self._members_lost(dying, state, use.line)
            elif current is None:
                state[key] = Freed(use.line, use.line, block=f"?{key}")
            return
        if freed and use.kind is not UseKind.COND:
            self.reporter.after_free(key, current, use.line, FindingKind.USE_AFTER_FREE)
        if use.kind is UseKind.MOVE:
            # p++ / p += n: p now points inside the block; another holder still owns it.
            if isinstance(current, Owned) and holders(state, current.block, skip=key):
                state.pop(key)
            else:
                self._escape(key, state)
            return
        if isinstance(current, Owned):
            if use.kind is UseKind.ESCAPE:
                self._escape(key, state)  # ownership left: someone else may free it
            else:
                state[key] = replace(current, anchor=tuple(self.pos), anchor_line=use.line)

    def _members_lost(self, containers: list[str], state: State, line: int) -> None:
        """A block is freed while its fields still own blocks nothing else holds: those leak
        (``free(b)`` before ``free(b->data)``)."""
        for container in containers:
            for member in [k for k in state if k.startswith(f"{container}->")]:
                value = state.pop(member)
                if (isinstance(value, Owned) and value.param is None and not value.mixed
                        and not holders(state, value.block)):
                    self.reporter.leak(member, value, line, "container", False, None)

    def _escape(self, key: str, state: State) -> None:
        if "->" in key:
            self.lost_weak.add(key)
        current = state.get(key)
        state.pop(key, None)
        if isinstance(current, Owned):
            for holder in holders(state, current.block, skip=key):
                self._escape(holder, state)
        for weak in [k for k in state if k.startswith(f"{key}->")]:
            self._escape(weak, state)  # what the pointer points to goes with it

    def _assign(self, event: Assign, state: State) -> None:
        key = self.resolve(event.name)
        source = self.resolve(event.copy_of) if event.copy_of else None
        if key is not None and key == source:
            return  # `p = p`
        if event.copy_of and source is None and self.lookup(event.copy_of) in self.structs:
            for field_key in _fields(state, self.lookup(event.copy_of) or ""):
                self._escape(field_key, state)  # a structure copied whole: follow it no more
        new: VarState | None = None
        if event.alloc:
            new = self._allocation(event, key, state)
        elif event.copy_of:
            copied = state.get(source) if source is not None else None
            if key is None or key in self.structs:
                if source is not None:
                    self._escape(source, state)  # stored where we cannot follow it
            elif isinstance(copied, Owned) and copied.param is not None and "->" in key:
                self._escape(source, state)  # the caller's block stored in an object: kept
            elif isinstance(copied, Owned) and source is not None:
                new = replace(copied, aliased=True, anchor=tuple(self.pos), anchor_line=event.line)
                state[source] = replace(copied, aliased=True)
            else:
                new = copied
        elif event.null:
            new = NULL
        if event.call is not None and key is not None:
            self.results[key] = event.call
        elif key is not None:
            self.results.pop(key, None)
        if key is None:
            return
        if "->" in key:
            # A store through a pointer may change the same field reached through another one.
            member = key.rpartition("->")[2]
            self._clobber(state, None, keep=key, member=member)
        else:
            self._clobber(state, (event.name,)) if key in self.tracked else None
        current = state.get(key)
        if key.endswith("[]"):
            if isinstance(new, Owned):
                state[key] = replace(new, aliased=True)  # no single release call frees them all
            return
        if new is None:
            state.pop(key, None)
        else:
            state[key] = new
        if (isinstance(current, Owned) and current.param is None and "->" not in key
                and not (isinstance(new, Owned) and new.block == current.block)
                and not holders(state, current.block, skip=key)):
            self.overwritten(key, current, event.line)

    def _allocation(self, event: Assign, key: str | None, state: State) -> Owned:
        consumed = self.resolve(event.consumes) if event.consumes else None
        prior = state.get(consumed) if consumed is not None else None
        loop = self.loops[-1] if self.loops else None
        fresh = Owned(event.line, loop, tuple(self.pos), event.line, self.in_decl,
                      block=f"{key or event.name}@{event.line}", resource=event.alloc or "memory",
                      guard=event.guard, maybe_null=event.guard is not None)
        if (event.consumes == event.name and event.allocator in REALLOCATORS
                and not isinstance(prior, Owned | Null)
                and not isinstance(prior, Freed) and not self._aborts_next()):
            # `v->data = realloc(v->data, n)`: whatever v->data held is lost if it fails.
            self.reporter.realloc_leak(consumed or event.name, Owned(0, None, (), 0, False,
                                       block=f"realloc@{event.line}"), event.line,
                                       event.allocator or "realloc")
        for holder, value in list(state.items()):
            if isinstance(value, Owned | Freed) and value.block == fresh.block:
                # The same site ran before (a loop): that block is an older, different one.
                state[holder] = replace(value, block=f"{fresh.block}^")
        if not isinstance(prior, Owned) or consumed is None:
            return fresh
        if prior.resource != event.alloc:
            self._escape(consumed, state)  # fdopen: the stream now owns the descriptor
            return fresh
        if consumed == key and event.allocator in REALLOCATORS and not self._aborts_next():
            self.reporter.realloc_leak(key, prior, event.line, event.allocator or "realloc")
        if consumed != key:
            state[consumed] = replace(prior, aliased=True)
        return replace(fresh, block=prior.block, alloc_line=prior.alloc_line if prior.param is None
                       else event.line, param=prior.param, aliased=consumed != key,
                       mixed=prior.mixed, maybe_null=prior.maybe_null)

    # -- losing blocks -----------------------------------------------------------------------

    def overwritten(self, key: str, owned: Owned, line: int) -> None:
        """Report the block of ``key`` lost by an assignment."""
        in_loop = owned.loop is not None and owned.loop in self.loops
        block, index = self.direct_block()
        if in_loop and owned.loop is not None:
            block, index = self.blocks.get(owned.loop.body_id), None
        self.reporter.leak(key, owned, line, "overwrite", in_loop,
                           self.fix_line(owned, block, index))

    def close(self, scopes: list[Scope], state: State, how: str, line: int,
              block: c_ast.Compound | None, index: int | None, running: list[Loop] | None = None
              ) -> None:
        """Report and drop every owned variable declared in ``scopes`` (they go out of reach)."""
        running = self.loops if running is None else running
        dropped: list[tuple[str, Owned, Scope]] = []
        for scope in scopes:
            for key in scope.names.values():
                if key is None:
                    continue
                for dying in [key, *_fields(state, key)]:
                    owned = state.pop(dying, None)
                    if isinstance(owned, Owned) and owned.param is None:
                        dropped.append((dying, owned, scope))
        for key, owned, scope in dropped:
            if holders(state, owned.block):
                continue  # another variable still holds the block
            in_loop = owned.loop is not None and owned.loop in running
            kind = "redeclared" if (how == "end" and in_loop and owned.at_decl
                                    and scope.loop == owned.loop) else how
            self.reporter.leak(key, owned, line, kind, in_loop, self.fix_line(owned, block, index))


def _fields(state: State, key: str) -> list[str]:
    """Keys of the fields (``s.f``) and elements (``a[]``) of the variable ``key``."""
    prefix, elements = f"{key}.", f"{key}[]"
    return [k for k in state if k.startswith(prefix) or k == elements]



