"""What a function walk records at its exits, and the summary its callers get from that.

At every ``return`` (and at the closing brace) the walker notes what became of each parameter's
block (followed by a *ghost* key that no assignment overwrites), what the function returns, and
what it stored through pointer parameters (``*out = malloc(n)``, ``b->data = malloc(n)``)
together with the constant it returned then. :meth:`ExitRecorder.summary` folds those notes into
a :class:`~analysis.c_summaries.Summary`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pycparser import c_ast

from analysis.c_events import Effect, is_null, line_of, strip_casts
from analysis.c_state import Freed, Null, Owned, State
from analysis.c_summaries import Summary

if TYPE_CHECKING:
    from analysis.c_summaries import UnitCallees
    from analysis.c_verdicts import Reporter

Outcome = str
"""What a parameter's block became at one exit: ``held``, ``freed``, ``null`` or ``gone``."""


def ghost(index: int) -> str:
    """State key that follows the caller's block of parameter ``index`` whatever is assigned."""
    return f"#param{index}"


class ExitRecorder:
    """Mixin of the function walker: exit notes and the summary."""

    callees: UnitCallees
    reporter: Reporter
    lost_weak: set[str]

    def init_exits(self) -> None:
        """Start with no exit seen."""
        self.exits: list[dict[int, Outcome]] = []
        self.returns: list[str] = []
        """What each reachable ``return`` yields: ``fresh:<kind>``, ``null`` or ``other``."""
        self.stores: list[tuple[int | None, dict[tuple[int, str], str]]] = []
        """Per exit: the constant returned (None if not constant) and what each pointer
        parameter's pointee holds (``fresh:<kind>``, ``null`` or ``other``)."""
        self.param_count = 0
        self.param_keys: list[str | None] = []
        """State key of each parameter (None when untracked)."""
        self.returned: int | None = None
        self.fresh_members: list[frozenset[tuple[str, str]]] = []
        """Per ``return p;`` of a fresh block: its fields (``p->f``) holding fresh blocks."""
        self.struct_returns: list[frozenset[tuple[str, str]]] = []
        """Per ``return s;`` of a local structure: its fields holding fresh resources."""

    def record_exit(self, state: State) -> None:
        """Note what became of each parameter's block at a function exit (from its ghost)."""
        outcome: dict[int, Outcome] = {}
        stored: dict[tuple[int, str], str] = {}
        for index in range(self.param_count):
            value = state.get(ghost(index))
            if isinstance(value, Owned):
                outcome[index] = "gone" if value.mixed else "held"
            elif isinstance(value, Freed):
                outcome[index] = "freed" if value.definite else "gone"
            else:
                outcome[index] = "null" if isinstance(value, Null) else "gone"
            key = self.param_keys[index]
            for weak in [k for k in state if key is not None and k.startswith(f"{key}->")]:
                held = state[weak]
                status = ("null" if isinstance(held, Null) else f"fresh:{held.resource}"
                          if isinstance(held, Owned) and held.param is None and not held.mixed
                          else "other")
                stored[(index, weak.rpartition("->")[2])] = status
        self.exits.append(outcome)
        self.stores.append((self.returned, stored))
        self.returned = None

    def classify_return(self, expr: c_ast.Node | None, state: State, value: int | None) -> None:
        """Note whether a ``return`` yields a fresh resource, null, or something else."""
        self.returned = value
        expr = strip_casts(expr)
        if expr is None:
            self.returns.append("other")
            return
        if is_null(expr):
            self.returns.append("null")
            return
        if isinstance(expr, c_ast.FuncCall) and isinstance(expr.name, c_ast.ID):
            kind = self.callees.allocates(expr.name.name)
            consumed = self.callees.consumes(expr.name.name)
            self.returns.append(f"fresh:{kind}" if kind and consumed is None else "other")
            return
        struct = self.lookup(expr.name) if isinstance(expr, c_ast.ID) else None  # type: ignore[attr-defined]
        if struct is not None and struct in self.structs:  # type: ignore[attr-defined]
            prefix = f"{struct}."
            self.struct_returns.append(frozenset(
                (key[len(prefix):], value.resource) for key, value in state.items()
                if key.startswith(prefix) and isinstance(value, Owned) and value.param is None
                and not value.mixed))
            self.returns.append("other")
            return
        key = self.resolve(expr.name) if isinstance(expr, c_ast.ID) else None  # type: ignore[attr-defined]
        held = state.get(key) if key is not None else None
        if isinstance(held, Owned) and held.param is None and not held.mixed:
            self.returns.append(f"fresh:{held.resource}")
            self.fresh_members.append(frozenset(
                (weak.rpartition("->")[2], value.resource) for weak, value in state.items()
                if weak.startswith(f"{key}->") and isinstance(value, Owned)
                and value.param is None and not value.mixed))
        elif isinstance(held, Owned) and held.alloc_line and not held.mixed:
            self.returns.append(f"fresh:{held.resource}:{held.param}")  # realloc of a parameter
        elif isinstance(held, Null):
            self.returns.append("null")
        else:
            self.returns.append("other")

    def summary(self) -> Summary:
        """The function's summary from everything recorded."""
        allocates, consumes = None, None
        kinds = {r for r in self.returns if r != "null"}
        if len(kinds) == 1 and (only := kinds.pop()).startswith("fresh:"):
            allocates, _, param = only.removeprefix("fresh:").partition(":")
            consumes = int(param) if param else None
        fields: frozenset[tuple[str, str]] = frozenset()
        if self.struct_returns and len(self.struct_returns) == len(self.returns):
            fields = frozenset.intersection(*self.struct_returns)
        members: frozenset[tuple[str, str]] = frozenset()
        if allocates and self.fresh_members:
            members = frozenset.intersection(*self.fresh_members)
        return Summary(self._effects(), allocates, noreturn=not self.exits, consumes=consumes,
                       out_allocs=self._out_allocs(), returned_fields=tuple(sorted(fields)),
                       allocated_members=tuple(sorted(members)))

    def _effects(self) -> tuple[Effect, ...]:
        effects: list[Effect] = []
        for index in range(self.param_count):
            seen = {exit_.get(index, "gone") for exit_ in self.exits}
            if seen <= {"held", "null"}:
                effects.append(Effect.BORROW)
            elif seen <= {"freed", "null"} and "freed" in seen:
                effects.append(Effect.RELEASE)
            else:
                effects.append(Effect.KEEP)
        return tuple(effects)

    def _out_allocs(self) -> tuple[tuple[int, str, str, frozenset[int] | None], ...]:
        """Fresh blocks stored through pointer parameters, and with which return values."""
        lost = {weak.rpartition("->")[2] for weak in self.lost_weak}
        slots = {slot for _, stored in self.stores for slot in stored}
        out = []
        for slot in sorted(slots):
            if slot[1] in lost:
                continue
            statuses = [(returned, stored.get(slot, "null")) for returned, stored in self.stores]
            kinds = {status for _, status in statuses if status != "null"}
            if len(kinds) != 1 or not (kind := kinds.pop()).startswith("fresh:"):
                continue
            fresh = {returned for returned, status in statuses if status != "null"}
            empty = {returned for returned, status in statuses if status == "null"}
            if not empty:
                out.append((slot[0], slot[1], kind.removeprefix("fresh:"), None))
            elif None not in fresh | empty and not fresh & empty:
                out.append((slot[0], slot[1], kind.removeprefix("fresh:"),
                            frozenset(v for v in fresh if v is not None)))
        return tuple(out)

    def discarded(self, node: c_ast.Node) -> None:
        """Report a call statement whose fresh result is thrown away (``strdup(s);``)."""
        call = strip_casts(node)
        if not (isinstance(call, c_ast.FuncCall) and isinstance(call.name, c_ast.ID)):
            return
        kind = self.callees.allocates(call.name.name)
        if kind is None or self.callees.consumes(call.name.name) is not None:
            return
        line = line_of(call)
        owned = Owned(line, None, (), line, False, block=f"discarded@{line}", resource=kind,
                      aliased=True)
        self.reporter.leak(f"{call.name.name}()", owned, line, "discarded", False, None)
