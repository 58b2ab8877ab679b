"""Path-sensitive ownership walk over one C function body: statements and control flow.

The walker follows the AST in execution order carrying a *state* (see :mod:`analysis.c_state`).
Branches are walked separately and merged; branches whose condition folds to a constant are not
walked at all. Loops are walked twice so the second pass sees what the first iteration left behind
(that is how "overwritten on the next iteration" is found); ``return``, ``break``, ``continue``
and ``goto`` close the scopes they leave. A forward ``goto`` carries its state to the label, where
it joins the fall-through path (the cleanup-label idiom); a backward ``goto`` ends the path
(silent rather than wrong).
"""

from __future__ import annotations

from pycparser import c_ast

from analysis.c_branches import BranchesMixin, Target
from analysis.c_consts import trip_count
from analysis.c_exits import ghost
from analysis.c_ownership import OwnershipCore, Scope, Unit
from analysis.c_state import NULL, Freed, Owned, State, merge
from analysis.c_summaries import Summary
from analysis.c_uses import Ctx, assign_events, callee_name, expr_events, line_of

ASSERTS = frozenset({"assert", "__builtin_assume", "g_assert", "ASSERT"})
"""Calls that abort when their argument is false (the fake libc leaves ``assert`` a call)."""
from analysis.c_verdicts import Loop
from analysis.model import LeakFinding

MAX_STEPS = 20_000
"""Statements visited per function before giving up (nested loops are walked 2^depth times)."""


class GiveUp(Exception):
    """The function is too large to walk; report nothing for it."""


class FunctionWalker(BranchesMixin, OwnershipCore):
    """Walks one function definition and collects its findings and its summary."""

    def __init__(self, func: c_ast.FuncDef, unit: Unit) -> None:
        """Prepare a walk.

        Args:
            func: The function definition.
            unit: Shared facts about the translation unit.
        """
        super().__init__(func, unit)
        self.targets: list[Target] = []
        self.steps = 0
        self.labels: dict[str, tuple[int, tuple[int, int]]] = {}
        """Label -> (id of the enclosing block, (line, column))."""
        self.pending: dict[str, State] = {}
        """States carried by forward gotos, waiting at their label."""

    def run(self) -> tuple[list[LeakFinding], Summary]:
        """Walk the function.

        Returns:
            Findings in the order found, and the function's summary (all "may keep" when the
            function could not be walked).
        """
        saved = dict(self.callees.aliases)
        try:
            findings = self._run()
            return findings, self.summary()
        except (GiveUp, RecursionError):
            return [], Summary()
        finally:
            self.callees.aliases.clear()
            self.callees.aliases.update(saved)

    def _run(self) -> list[LeakFinding]:
        body = self.func.body
        if not isinstance(body, c_ast.Compound):
            return []
        self._find_labels(body, id(body))
        params = Scope(block=body)
        state: State = {}
        args = getattr(self.func.decl.type, "args", None)
        self.param_keys = []
        for index, param in enumerate(getattr(args, "params", None) or []):
            key = None
            if isinstance(param, c_ast.Decl) and param.name:
                key = self.declare(params, param)
            if key is not None and key in self.tracked:
                # The caller's block: held by the parameter and by a ghost key that no
                # assignment can overwrite, so the summary sees what finally became of it.
                state[key] = state[ghost(index)] = Owned(0, None, (), 0, False,
                                                         block=f"param{index}", param=index)
            self.param_keys.append(key if key in self.tracked else None)
        self.param_count = len(self.param_keys)
        self.scopes.append(params)
        end = self._compound(body, state)
        if end is not None:
            self.record_exit(end)
            self.close([params], end, "end", self.end_line(body), block=body, index=None)
        return self.reporter.findings()

    def _find_labels(self, node: c_ast.Node, block: int) -> None:
        if isinstance(node, c_ast.Label):
            coord = node.coord
            self.labels[node.name] = (block, (coord.line, coord.column or 0) if coord else (0, 0))
        inner = id(node) if isinstance(node, c_ast.Compound) else block
        for _, child in node.children():
            self._find_labels(child, inner)

    # -- statements ---------------------------------------------------------------------------

    def _compound(self, block: c_ast.Compound, state: State | None, loop: Loop | None = None
                  ) -> State | None:
        scope = Scope(block=block, loop=loop)
        self.blocks[id(block)] = block
        self.scopes.append(scope)
        for index, item in enumerate(block.block_items or []):
            if state is None and not (isinstance(item, c_ast.Label) and self.pending):
                continue  # unreachable, unless a goto lands on a label here
            self.pos.append((id(block), index))
            state = self._stmt(item, state, direct=True)
            self.pos.pop()
        if state is not None:
            self.close([scope], state, "end", self.end_line(block), block=block, index=None)
        self.scopes.pop()
        return state

    def _stmt(self, node: c_ast.Node | None, state: State | None, direct: bool = False
              ) -> State | None:
        self.steps += 1
        if self.steps > MAX_STEPS:
            raise GiveUp("too many paths")
        if isinstance(node, c_ast.Label):
            state = merge(state, self.pending.pop(node.name, None))
            return self._stmt(node.stmt, state, direct)
        if node is None or state is None:
            return state
        self.direct = direct
        if isinstance(node, c_ast.Compound):
            return self._compound(node, state)
        if isinstance(node, c_ast.Decl | c_ast.DeclList):
            return self._decls(node.decls if isinstance(node, c_ast.DeclList) else [node], state)
        if isinstance(node, c_ast.If):
            then_state, else_state = self._branch(node.cond, state)
            then_state = self._stmt(node.iftrue, then_state)
            else_state = self._stmt(node.iffalse, else_state) if node.iffalse else else_state
            return merge(then_state, else_state)
        if isinstance(node, c_ast.While | c_ast.DoWhile | c_ast.For):
            return self._loop(node, state)
        if isinstance(node, c_ast.Switch):
            return self._switch(node, state)
        if isinstance(node, c_ast.Return):
            state = self.apply(expr_events(node.expr, Ctx.VALUE, self.callees),
                               self._before_return(node, state))
            if state is not None:
                self.record_exit(state)
                block, index = self.direct_block()
                self.close(list(reversed(self.scopes)), state, "return", line_of(node),
                           block=block, index=index, running=[])
            return None
        if isinstance(node, c_ast.Break | c_ast.Continue):
            return self._jump(node, state)
        if isinstance(node, c_ast.Goto):
            return self._goto(node, state)
        if isinstance(node, c_ast.Case | c_ast.Default):
            return self._stmts(node.stmts or [], state)
        if isinstance(node, c_ast.AttributedStatement):
            return self._stmt(node.stmt, state, direct)
        if isinstance(node, c_ast.FuncCall) and callee_name(node) in ASSERTS and node.args:
            return self._branch(node.args.exprs[0], state)[0]  # a failed assert aborts
        if isinstance(node, c_ast.FuncCall | c_ast.Cast):
            state = self.apply(expr_events(node, Ctx.BORROW, self.callees), state)
            if state is not None:
                self.discarded(node)
            return state
        if isinstance(node, c_ast.Typedef | c_ast.EmptyStatement | c_ast.Pragma
                      | c_ast.StaticAssert | c_ast.Struct | c_ast.Union | c_ast.Enum):
            return state
        return self.apply(expr_events(node, Ctx.BORROW, self.callees), state)

    def _before_return(self, node: c_ast.Return, state: State) -> State:
        self.classify_return(node.expr, state, self._fold(node.expr))
        return state

    def _stmts(self, stmts: list[c_ast.Node], state: State | None) -> State | None:
        for stmt in stmts:
            state = self._stmt(stmt, state)
        return state

    def _decls(self, decls: list[c_ast.Node], state: State) -> State | None:
        result: State | None = state
        for decl in decls:
            if not isinstance(decl, c_ast.Decl) or not decl.name or result is None:
                continue
            key = self.declare(self.scopes[-1], decl)
            if decl.init is None:
                if key in self.tracked:
                    result[key] = NULL  # uninitialised: owns nothing yet
                continue
            if isinstance(decl.init, c_ast.InitList):
                result = self.apply(expr_events(decl.init, Ctx.VALUE, self.callees), result)
                continue
            self.in_decl = True
            try:
                result = self.apply(assign_events(decl.name, decl.init, line_of(decl),
                                                  self.callees), result)
            finally:
                self.in_decl = False
        return result

    def _fold(self, cond: c_ast.Node | None) -> int | None:
        return self.unit.constants.fold(cond, self.is_local)

    def _loop(self, node: c_ast.While | c_ast.DoWhile | c_ast.For, state: State) -> State | None:
        value = self._fold(node.cond) if node.cond is not None else 1
        loop = Loop(line_of(node), id(node.stmt), bool(value))
        head_scope = Scope()
        self.scopes.append(head_scope)
        if isinstance(node, c_ast.For) and node.init is not None:
            state = self._stmt(node.init, state)  # type: ignore[assignment]
        target = Target(is_loop=True, depth=len(self.scopes))
        self.targets.append(target)
        self.loops.append(loop)
        entry, head, exits = state, state, []
        # Two passes: the second starts from what one iteration leaves behind, so a block still
        # owned at the back edge shows up as overwritten or re-declared. A loop that cannot
        # repeat (`do { } while (0)`) gets one.
        # A counted loop (`for (i = 0; i < 1; i++)`) runs its body at least once when its count
        # is positive, and exactly once for a count of 1.
        count = trip_count(node, self._fold) if isinstance(node, c_ast.For) else None
        passes = 1 if (isinstance(node, c_ast.DoWhile) and value == 0) or count == 1 else 2
        if count is not None:
            passes = min(count, 2)
        for pass_number in range(0 if count == 0 else passes):
            current: State | None = dict(head) if head is not None else None
            if not isinstance(node, c_ast.DoWhile):
                self.direct = False
                if count is None:
                    current, leave = self._branch(node.cond, current)
                    exits.append(leave)
                else:
                    current = self.apply(expr_events(node.cond, Ctx.COND, self.callees), current)
            if isinstance(node.stmt, c_ast.Compound):
                current = self._compound(node.stmt, current, loop=loop)
            else:
                current = self._stmt(node.stmt, current)
            for cont in target.continues:
                current = merge(current, cont)
            target.continues.clear()
            if isinstance(node, c_ast.DoWhile):
                current, leave = self._branch(node.cond, current)
                exits.append(leave)
            elif isinstance(node, c_ast.For):
                current = self.apply(expr_events(node.next, Ctx.BORROW, self.callees), current)
            if count is not None:
                # A counted loop leaves after its last iteration, which starts where the
                # previous one ended (never from the entry).
                if pass_number == passes - 1:
                    exits.append(current)
                head = current
                continue
            head = _loop_head(entry, current)
        if count == 0:
            exits.append(entry)
        self.loops.pop()
        self.targets.pop()
        result: State | None = None
        for exit_state in exits + target.breaks:
            result = merge(result, exit_state)
        if result is not None:
            self.close([head_scope], result, "end", line_of(node), block=None, index=None)
        self.scopes.pop()
        return result

def _loop_head(entry: State | None, back: State | None) -> State | None:
    """Join the loop entry with the back edge.

    A parameter's block still owned on entry but freed on the back edge is a list being freed
    node by node (``while (p) { next = p->next; free(p); p = next; }``): on the paths that keep
    looping it was freed, and the path that never enters had nothing left to free.
    """
    head = merge(entry, back)
    if head is None or entry is None or back is None:
        return head
    for key, value in back.items():
        if key.startswith("#param") and isinstance(value, Freed) and isinstance(entry.get(key), Owned):
            head[key] = value
    return head
