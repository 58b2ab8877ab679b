"""Path-sensitive ownership walk over one C function body.

The walker follows the AST in execution order carrying a *state*: for every local pointer that
matters, whether it currently owns a heap block (:class:`Owned`), was freed (:class:`Freed`) or is
null (:data:`NULL`). Keys absent from the state are unknown (never allocated here, or ownership
escaped), and the analysis stays silent about them. ``None`` stands for an unreachable point.

Branches are walked separately and merged; loops are walked twice so the second pass sees what the
first iteration left behind (that is how "overwritten on the next iteration" is found); ``return``,
``break`` and ``continue`` close the scopes they leave. Functions using ``goto`` are skipped:
cleanup-label idioms would otherwise produce false alarms.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace

from pycparser import c_ast

from analysis.c_state import (
    NULL,
    Freed,
    Owned,
    State,
    VarState,
    is_constant_true,
    merge,
    null_facts,
)
from analysis.c_uses import (
    Assign,
    Borrows,
    Ctx,
    Event,
    NoReturn,
    Use,
    UseKind,
    assign_events,
    expr_events,
    line_of,
)
from analysis.c_verdicts import Loop, Reporter
from analysis.model import FindingKind, LeakFinding

MAX_STEPS = 20_000
"""Statements visited per function before giving up (nested loops are walked 2^depth times)."""


class GiveUp(Exception):
    """The function uses a construct the walker does not model; report nothing for it."""


@dataclass
class _Scope:
    """One lexical scope: identifiers declared in it, mapped to state keys (None = untracked)."""

    names: dict[str, str | None] = field(default_factory=dict)
    block: c_ast.Compound | None = None
    loop: Loop | None = None
    """Set when this scope is that loop's body."""


@dataclass
class _Target:
    """A ``break``/``continue`` target: a loop or a switch."""

    is_loop: bool
    depth: int
    """Number of scopes open outside the loop or switch."""
    breaks: list[State] = field(default_factory=list)
    continues: list[State] = field(default_factory=list)


class FunctionWalker:
    """Walks one function definition and collects its findings."""

    def __init__(self, func: c_ast.FuncDef, filename: str, borrows: Borrows,
                 end_line: Callable[[c_ast.Node], int]) -> None:
        """Prepare a walk.

        Args:
            func: The function definition.
            filename: File name to put on findings.
            borrows: Summary of which same-TU functions only borrow which arguments.
            end_line: Last source line of a statement (closing brace line for a block).
        """
        self.func = func
        self.borrows = borrows
        self.end_line = end_line
        self.reporter = Reporter(filename, func.decl.name)
        self.scopes: list[_Scope] = []
        self.pointers: set[str] = set()
        self.pos: list[tuple[int, int]] = []
        self.direct = False
        """True while walking a statement that is itself an item of the innermost block."""
        self.loops: list[Loop] = []
        self.targets: list[_Target] = []
        self.blocks: dict[int, c_ast.Compound] = {}
        self.in_decl = False
        self.steps = 0

    def run(self) -> list[LeakFinding]:
        """Walk the function.

        Returns:
            Findings in the order found (empty when the function uses ``goto``).
        """
        try:
            return self._run()
        except (GiveUp, RecursionError):
            return []

    def _run(self) -> list[LeakFinding]:
        body = self.func.body
        if not isinstance(body, c_ast.Compound):
            return []
        params = _Scope(block=body)
        args = getattr(self.func.decl.type, "args", None)
        for param in getattr(args, "params", None) or []:
            if isinstance(param, c_ast.Decl) and param.name:
                self._declare(params, param)
        self.scopes.append(params)
        state = self._compound(body, {})
        if state is not None:
            self._close([params], state, "end", self.end_line(body), block=body, index=None)
        return self.reporter.findings()

    # -- scopes and state ---------------------------------------------------------------------

    def _declare(self, scope: _Scope, decl: c_ast.Decl) -> str | None:
        storage = decl.storage or []
        if "static" in storage or "extern" in storage or isinstance(decl.type, c_ast.FuncDecl):
            scope.names[decl.name] = None  # lives beyond the call: storing into it is an escape
            return None
        coord = decl.coord
        key = f"{decl.name}@{coord.line if coord else 0}:{coord.column if coord else 0}"
        scope.names[decl.name] = key
        if isinstance(decl.type, c_ast.PtrDecl):
            self.pointers.add(key)
        self.reporter.names[key] = decl.name
        return key

    def _resolve(self, name: str) -> str | None:
        for scope in reversed(self.scopes):
            if name in scope.names:
                key = scope.names[name]
                return key if key in self.pointers else None
        return None  # a global or an undeclared name: not ours to track

    def _apply(self, events: list[Event], state: State | None) -> State | None:
        for event in events:
            if state is None or isinstance(event, NoReturn):
                return None
            key = self._resolve(event.name)
            if key is None:
                continue
            current = state.get(key)
            if isinstance(event, Use):
                self._use(key, current, event, state)
            elif isinstance(event, Assign):
                if isinstance(current, Owned):
                    self._overwritten(key, current, event.line)
                if event.alloc:
                    loop = self.loops[-1] if self.loops else None
                    state[key] = Owned(event.line, loop, tuple(self.pos), event.line, self.in_decl)
                elif event.null:
                    state[key] = NULL
                else:
                    state.pop(key, None)
        return state

    def _use(self, key: str, current: VarState | None, use: Use, state: State) -> None:
        freed = isinstance(current, Freed) and current.definite
        if use.kind is UseKind.FREE:
            if freed:
                self.reporter.after_free(key, current, use.line, FindingKind.DOUBLE_FREE)
            elif isinstance(current, Owned) and current.freed_at is not None:
                # Freed on a path that merged into this one: a double free on that path.
                self.reporter.after_free(key, Freed(current.freed_at, current.alloc_line),
                                         use.line, FindingKind.DOUBLE_FREE, maybe=True)
            if isinstance(current, Owned):
                state[key] = Freed(use.line, current.alloc_line, definite=not current.mixed)
            elif current is None:
                state[key] = Freed(use.line, use.line)
            return
        if freed and use.kind is not UseKind.COND:
            self.reporter.after_free(key, current, use.line, FindingKind.USE_AFTER_FREE)
        if isinstance(current, Owned):
            if use.kind is UseKind.ESCAPE:
                del state[key]  # ownership left: someone else may free it
            else:
                state[key] = replace(current, anchor=tuple(self.pos), anchor_line=use.line)

    def _overwritten(self, key: str, owned: Owned, line: int) -> None:
        in_loop = owned.loop is not None and owned.loop in self.loops
        block, index = self._direct_block()
        if in_loop and owned.loop is not None:
            block, index = self.blocks.get(owned.loop.body_id), None
        self.reporter.leak(key, owned, line, "overwrite", in_loop, self._fix_line(owned, block, index))

    def _close(self, scopes: list[_Scope], state: State, how: str, line: int,
               block: c_ast.Compound | None, index: int | None, running: list[Loop] | None = None
               ) -> None:
        """Report and drop every owned variable declared in ``scopes`` (they go out of reach)."""
        running = self.loops if running is None else running
        for scope in scopes:
            for key in scope.names.values():
                owned = state.pop(key, None) if key is not None else None
                if not isinstance(owned, Owned):
                    continue
                in_loop = owned.loop is not None and owned.loop in running
                kind = "redeclared" if (how == "end" and in_loop and owned.at_decl
                                        and scope.loop == owned.loop) else how
                self.reporter.leak(key, owned, line, kind, in_loop,
                                   self._fix_line(owned, block, index))

    def _direct_block(self) -> tuple[c_ast.Compound | None, int | None]:
        if not self.direct or not self.pos:
            return None, None
        block_id, index = self.pos[-1]
        return self.blocks.get(block_id), index

    def _fix_line(self, owned: Owned, block: c_ast.Compound | None, limit: int | None) -> int | None:
        """Line after which ``free(var);`` is safe: after the last use, at ``block``'s level.

        ``limit`` is the index of the statement where the block is lost (return, overwrite) when
        that statement is in ``block``; the fix must then go before it.
        """
        if owned.mixed or block is None:
            return None
        for block_id, index in owned.anchor:
            if block_id == id(block):
                if limit is not None and index >= limit:
                    return None
                return self.end_line(block.block_items[index])
        if limit is None or block.coord is None:
            return None
        # The last use was before this block: free right after its opening brace.
        first = block.block_items[0] if block.block_items else None
        return block.coord.line if first is None or line_of(first) > block.coord.line else None

    # -- statements ---------------------------------------------------------------------------

    def _compound(self, block: c_ast.Compound, state: State | None, loop: Loop | None = None
                  ) -> State | None:
        scope = _Scope(block=block, loop=loop)
        self.blocks[id(block)] = block
        self.scopes.append(scope)
        for index, item in enumerate(block.block_items or []):
            if state is None:
                break
            self.pos.append((id(block), index))
            state = self._stmt(item, state, direct=True)
            self.pos.pop()
        if state is not None:
            self._close([scope], state, "end", self.end_line(block), block=block, index=None)
        self.scopes.pop()
        return state

    def _stmt(self, node: c_ast.Node | None, state: State | None, direct: bool = False
              ) -> State | None:
        self.steps += 1
        if self.steps > MAX_STEPS:
            raise GiveUp("too many paths")
        if node is None or state is None:
            return state
        self.direct = direct
        if isinstance(node, c_ast.Compound):
            return self._compound(node, state)
        if isinstance(node, c_ast.Decl | c_ast.DeclList):
            return self._decls(node.decls if isinstance(node, c_ast.DeclList) else [node], state)
        if isinstance(node, c_ast.If):
            state = self._apply(expr_events(node.cond, Ctx.COND, self.borrows), state)
            then_state, else_state = self._refine(state, node.cond)
            then_state = self._stmt(node.iftrue, then_state)
            else_state = self._stmt(node.iffalse, else_state) if node.iffalse else else_state
            return merge(then_state, else_state)
        if isinstance(node, c_ast.While | c_ast.DoWhile | c_ast.For):
            return self._loop(node, state)
        if isinstance(node, c_ast.Switch):
            return self._switch(node, state)
        if isinstance(node, c_ast.Return):
            state = self._apply(expr_events(node.expr, Ctx.VALUE, self.borrows), state)
            if state is not None:
                block, index = self._direct_block()
                self._close(list(reversed(self.scopes)), state, "return", line_of(node),
                            block=block, index=index, running=[])
            return None
        if isinstance(node, c_ast.Break | c_ast.Continue):
            return self._jump(node, state)
        if isinstance(node, c_ast.Goto | c_ast.Label):
            raise GiveUp("goto")
        if isinstance(node, c_ast.Case | c_ast.Default):
            return self._stmts(node.stmts or [], state)
        if isinstance(node, c_ast.AttributedStatement):
            return self._stmt(node.stmt, state, direct)
        if isinstance(node, c_ast.Typedef | c_ast.EmptyStatement | c_ast.Pragma
                      | c_ast.StaticAssert | c_ast.Struct | c_ast.Union | c_ast.Enum):
            return state
        return self._apply(expr_events(node, Ctx.BORROW, self.borrows), state)

    def _stmts(self, stmts: list[c_ast.Node], state: State | None) -> State | None:
        for stmt in stmts:
            state = self._stmt(stmt, state)
        return state

    def _decls(self, decls: list[c_ast.Node], state: State) -> State | None:
        result: State | None = state
        for decl in decls:
            if not isinstance(decl, c_ast.Decl) or not decl.name or result is None:
                continue
            key = self._declare(self.scopes[-1], decl)
            if decl.init is None:
                if key in self.pointers:
                    result[key] = NULL  # uninitialised: owns nothing yet
                continue
            if isinstance(decl.init, c_ast.InitList):
                result = self._apply(expr_events(decl.init, Ctx.VALUE, self.borrows), result)
                continue
            self.in_decl = True
            try:
                result = self._apply(assign_events(decl.name, decl.init, line_of(decl),
                                                   self.borrows), result)
            finally:
                self.in_decl = False
        return result

    def _refine(self, state: State | None, cond: c_ast.Node | None
                ) -> tuple[State | None, State | None]:
        """Split ``state`` into the states where ``cond`` is true and false (null checks)."""
        if state is None:
            return None, None
        branches: list[State] = []
        for truth in (True, False):
            branch = dict(state)
            for name, null in null_facts(cond, truth):
                key = self._resolve(name)
                if null and key is not None and isinstance(branch.get(key), Owned):
                    branch[key] = NULL  # the allocation failed on this branch: nothing to free
            branches.append(branch)
        return branches[0], branches[1]

    def _loop(self, node: c_ast.While | c_ast.DoWhile | c_ast.For, state: State) -> State | None:
        loop = Loop(line_of(node), id(node.stmt), is_constant_true(node.cond))
        head_scope = _Scope()
        self.scopes.append(head_scope)
        if isinstance(node, c_ast.For) and node.init is not None:
            state = self._stmt(node.init, state)  # type: ignore[assignment]
        target = _Target(is_loop=True, depth=len(self.scopes))
        self.targets.append(target)
        self.loops.append(loop)
        entry, head, exits = state, state, []
        # Two passes: the second starts from what one iteration leaves behind, so a block still
        # owned at the back edge shows up as overwritten or re-declared.
        for _ in range(2):
            current: State | None = dict(head) if head is not None else None
            if not isinstance(node, c_ast.DoWhile):
                self.direct = False
                current = self._apply(expr_events(node.cond, Ctx.COND, self.borrows), current)
                current, leave = self._refine(current, node.cond)
                exits.append(None if loop.infinite else leave)
            if isinstance(node.stmt, c_ast.Compound):
                current = self._compound(node.stmt, current, loop=loop)
            else:
                current = self._stmt(node.stmt, current)
            for cont in target.continues:
                current = merge(current, cont)
            if isinstance(node, c_ast.DoWhile):
                current = self._apply(expr_events(node.cond, Ctx.COND, self.borrows), current)
                current, leave = self._refine(current, node.cond)
                exits.append(None if loop.infinite else leave)
            elif isinstance(node, c_ast.For):
                current = self._apply(expr_events(node.next, Ctx.BORROW, self.borrows), current)
            head = merge(entry, current)
        self.loops.pop()
        self.targets.pop()
        result: State | None = None
        for exit_state in exits + target.breaks:
            result = merge(result, exit_state)
        if result is not None:
            self._close([head_scope], result, "end", line_of(node), block=None, index=None)
        self.scopes.pop()
        return result

    def _switch(self, node: c_ast.Switch, state: State) -> State | None:
        entry = self._apply(expr_events(node.cond, Ctx.BORROW, self.borrows), state)
        target = _Target(is_loop=False, depth=len(self.scopes))
        self.targets.append(target)
        body = node.stmt
        items = body.block_items or [] if isinstance(body, c_ast.Compound) else [body]
        scope = _Scope(block=body if isinstance(body, c_ast.Compound) else None)
        self.scopes.append(scope)
        current: State | None = None
        has_default = False
        for item in items:
            current, has_default = self._case_item(item, current, entry, has_default)
        self.scopes.pop()
        self.targets.pop()
        result = current
        for exit_state in target.breaks + ([] if has_default else [entry]):
            result = merge(result, exit_state)
        if result is not None:
            self._close([scope], result, "end", self.end_line(body), block=None, index=None)
        return result

    def _case_item(self, item: c_ast.Node, current: State | None, entry: State | None,
                   has_default: bool) -> tuple[State | None, bool]:
        if isinstance(item, c_ast.Case | c_ast.Default):
            # Control may jump straight here from the switch, or fall through from above.
            current = merge(current, entry)
            has_default = has_default or isinstance(item, c_ast.Default)
            for stmt in item.stmts or []:
                current, has_default = self._case_item(stmt, current, entry, has_default)
            return current, has_default
        return self._stmt(item, current), has_default

    def _jump(self, node: c_ast.Break | c_ast.Continue, state: State) -> State | None:
        is_break = isinstance(node, c_ast.Break)
        candidates = [t for t in self.targets if t.is_loop or is_break]
        if not candidates:
            return None  # stray break/continue: the parser accepted it, nothing to model
        target = candidates[-1]
        block, index = self._direct_block()
        leaving = list(reversed(self.scopes[target.depth:]))
        # A break out of a loop stops it: what leaks there leaks once. A continue repeats.
        running = self.loops[:-1] if is_break and target.is_loop else self.loops
        self._close(leaving, state, "break" if is_break else "continue", line_of(node),
                    block=block, index=index, running=running)
        (target.breaks if is_break else target.continues).append(state)
        return None
