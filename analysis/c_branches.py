"""Branching control flow of the path walk: conditions, ``switch``, ``break``/``continue``, ``goto``.

A mixin of :class:`analysis.c_paths.FunctionWalker`, kept apart so each module stays readable.
Conditions split a state in two: constant conditions make one side unreachable; null checks
(and negative-descriptor checks) empty the variable on the failing side; a test of a call's
return value empties what that call stored through an out-parameter on the side where it failed.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from pycparser import c_ast

from analysis.c_events import Ctx, deref_path, line_of, strip_casts, var_path
from analysis.c_exits import ghost
from analysis.c_ownership import Scope
from analysis.c_state import FAILED, Owned, State, merge, null_facts
from analysis.c_uses import expr_events

_COMPARE: dict[str, Callable[[int, int], bool]] = {
    "==": operator.eq, "!=": operator.ne, "<": operator.lt, ">": operator.gt,
    "<=": operator.le, ">=": operator.ge,
}


@dataclass
class Target:
    """A ``break``/``continue`` target: a loop or a switch."""

    is_loop: bool
    depth: int
    """Number of scopes open outside the loop or switch."""
    breaks: list[State] = field(default_factory=list)
    continues: list[State] = field(default_factory=list)



class BranchesMixin:
    """Conditions, switches and jumps of the function walker (see the module docstring)."""

    def _branch(self, cond: c_ast.Node | None, state: State | None
                ) -> tuple[State | None, State | None]:
        """Evaluate ``cond`` (with C's short circuit) and split the state on its outcome.

        ``a || (p = malloc(n)) == NULL`` assigns p only when ``a`` is false: each operand of
        ``&&`` and ``||`` is evaluated in the states where it runs.
        """
        inner = strip_casts(cond)
        if state is None:
            return None, None
        if isinstance(inner, c_ast.BinaryOp) and inner.op in ("&&", "||") \
                and self._fold(inner) is None:
            left_true, left_false = self._branch(inner.left, state)
            if inner.op == "&&":
                right_true, right_false = self._branch(inner.right, left_true)
                return right_true, merge(left_false, right_false)
            right_true, right_false = self._branch(inner.right, left_false)
            return merge(left_true, right_true), right_false
        if isinstance(inner, c_ast.UnaryOp) and inner.op == "!" and self._fold(inner) is None:
            negated_true, negated_false = self._branch(inner.expr, state)
            return negated_false, negated_true
        state = self.apply(expr_events(cond, Ctx.COND, self.callees), state)
        return self._refine(state, cond)

    def _refine(self, state: State | None, cond: c_ast.Node | None
                ) -> tuple[State | None, State | None]:
        """Split ``state`` into the states where ``cond`` is true and false.

        A constant condition makes one side unreachable; a null (or negative descriptor) check
        empties the variable on the side where the allocation failed.
        """
        if state is None:
            return None, None
        if cond is None:
            return dict(state), None  # `for (;;)`
        value = self._fold(cond)
        if value is not None:
            return (dict(state), None) if value else (None, dict(state))
        branches: list[State] = []
        for truth in (True, False):
            branch = dict(state)
            for node, null in null_facts(cond, truth):
                path = var_path(node) or deref_path(node)
                key = self.resolve(path) if path is not None else None
                held = branch.get(key) if key is not None else None
                if null and key is not None and isinstance(held, Owned):
                    branch[key] = FAILED  # the allocation failed on this branch: nothing to free
                    shadow = branch.get(ghost(held.param)) if held.param is not None else None
                    if isinstance(shadow, Owned) and shadow.block == held.block:
                        branch[ghost(held.param)] = FAILED  # type: ignore[arg-type]
            self._guards(branch, cond, truth)
            self._equal_to_global(branch, cond, truth)
            branches.append(branch)
        return branches[0], branches[1]

    def _equal_to_global(self, branch: State, cond: c_ast.Node, truth: bool) -> None:
        """``if (f != stdin) fclose(f);``: where ``f`` equals a global it holds that object,
        not the resource we track, so nothing is known about it on that side."""
        cond = strip_casts(cond)
        if not (isinstance(cond, c_ast.BinaryOp) and cond.op in ("==", "!=")):
            return
        if truth != (cond.op == "=="):
            return
        for mine, other in ((cond.left, cond.right), (cond.right, cond.left)):
            path, other = var_path(mine), strip_casts(other)
            key = self.resolve(path) if path is not None else None
            if (key is not None and isinstance(branch.get(key), Owned)
                    and isinstance(other, c_ast.ID) and not self.is_local(other.name)
                    and self._fold(other) is None and other.name not in ("NULL", "nullptr")):
                branch.pop(key)

    def _guards(self, branch: State, cond: c_ast.Node, truth: bool) -> None:
        """Empty out-parameter blocks whose call returned a value this branch rules out."""
        guarded = [(key, value) for key, value in branch.items()
                   if isinstance(value, Owned) and value.guard is not None]
        if not guarded:
            return
        for subject, accepts in _return_tests(cond, truth):
            call = (id(subject) if isinstance(subject, c_ast.FuncCall)
                    else self.results.get(self.resolve(subject.name) or ""))
            for key, value in guarded:
                call_id, values = value.guard  # type: ignore[misc]
                if call_id == call and not any(accepts(v) for v in values):
                    branch[key] = FAILED  # the callee failed on this branch: it stored nothing

    def _switch(self, node: c_ast.Switch, state: State) -> State | None:
        entry = self.apply(expr_events(node.cond, Ctx.BORROW, self.callees), state)
        target = Target(is_loop=False, depth=len(self.scopes))
        self.targets.append(target)
        body = node.stmt
        items = body.block_items or [] if isinstance(body, c_ast.Compound) else [body]
        scope = Scope(block=body if isinstance(body, c_ast.Compound) else None)
        self.scopes.append(scope)
        value = self._fold(node.cond)
        labels = [self._fold(item.expr) for item in _cases(items) if isinstance(item, c_ast.Case)]
        matched = value is not None and value in labels
        current: State | None = None
        has_default = False
        for item in items:
            current, has_default = self._case_item(item, current, entry, has_default,
                                                   (value, matched))
        self.scopes.pop()
        self.targets.pop()
        result = current
        falls_past = not has_default and (value is None or not matched)
        for exit_state in target.breaks + ([entry] if falls_past else []):
            result = merge(result, exit_state)
        if result is not None:
            self.close([scope], result, "end", self.end_line(body), block=None, index=None)
        return result

    def _case_item(self, item: c_ast.Node, current: State | None, entry: State | None,
                   has_default: bool, folded: tuple[int | None, bool]
                   ) -> tuple[State | None, bool]:
        if isinstance(item, c_ast.Case | c_ast.Default):
            value, matched = folded
            is_default = isinstance(item, c_ast.Default)
            if value is None:
                reachable = True
            elif is_default:
                reachable = not matched
            else:
                reachable = self._fold(item.expr) == value
            # Control may jump straight here from the switch, or fall through from above.
            if reachable:
                current = merge(current, entry)
            has_default = has_default or is_default
            for stmt in item.stmts or []:
                current, has_default = self._case_item(stmt, current, entry, has_default, folded)
            return current, has_default
        return self._stmt(item, current), has_default

    def _jump(self, node: c_ast.Break | c_ast.Continue, state: State) -> State | None:
        is_break = isinstance(node, c_ast.Break)
        candidates = [t for t in self.targets if t.is_loop or is_break]
        if not candidates:
            return None  # stray break/continue: the parser accepted it, nothing to model
        target = candidates[-1]
        block, index = self.direct_block()
        leaving = list(reversed(self.scopes[target.depth:]))
        # A break out of a loop stops it: what leaks there leaks once. A continue repeats.
        running = self.loops[:-1] if is_break and target.is_loop else self.loops
        self.close(leaving, state, "break" if is_break else "continue", line_of(node),
                   block=block, index=index, running=running)
        (target.breaks if is_break else target.continues).append(state)
        return None

    def _goto(self, node: c_ast.Goto, state: State) -> State | None:
        label = self.labels.get(node.name)
        coord = node.coord
        here = (coord.line, coord.column or 0) if coord else (0, 0)
        if label is None or label[1] <= here:
            return None  # a backward goto (a loop in disguise): end the path, report nothing
        depth = next((i for i in range(len(self.scopes) - 1, -1, -1)
                      if (block := self.scopes[i].block) is not None and id(block) == label[0]),
                     None)
        if depth is not None:
            block, index = self.direct_block()
            inner_loops = [t for t in self.targets[::-1] if t.is_loop and t.depth > depth]
            running = self.loops[:len(self.loops) - len(inner_loops)]
            self.close(list(reversed(self.scopes[depth + 1:])), state, "goto", line_of(node),
                       block=block, index=index, running=running)
        self.pending[node.name] = merge(self.pending.get(node.name), state)  # type: ignore[assignment]
        return None


def _cases(items: list[c_ast.Node]) -> list[c_ast.Node]:
    """Case and default labels of a switch body, including ones nested by fall-through."""
    out: list[c_ast.Node] = []
    for item in items:
        if isinstance(item, c_ast.Case | c_ast.Default):
            out.append(item)
            out.extend(_cases(item.stmts or []))
    return out


def _return_tests(cond: c_ast.Node | None, truth: bool
                  ) -> Iterator[tuple[c_ast.Node, Callable[[int], bool]]]:
    """``(call or variable, accepts(value))`` for each return-value test ``cond == truth`` makes."""
    cond = strip_casts(cond)
    if isinstance(cond, c_ast.FuncCall | c_ast.ID):
        yield cond, lambda v: bool(v) == truth
    elif isinstance(cond, c_ast.UnaryOp) and cond.op == "!":
        yield from _return_tests(cond.expr, not truth)
    elif isinstance(cond, c_ast.BinaryOp):
        if cond.op == ("&&" if truth else "||"):
            yield from _return_tests(cond.left, truth)
            yield from _return_tests(cond.right, truth)
        elif cond.op in _COMPARE:
            compare = _COMPARE[cond.op]
            left, right = strip_casts(cond.left), strip_casts(cond.right)
            constant = _int(right)
            if isinstance(left, c_ast.FuncCall | c_ast.ID) and constant is not None:
                yield left, lambda v: compare(v, constant) == truth
            constant = _int(left)
            if isinstance(right, c_ast.FuncCall | c_ast.ID) and constant is not None:
                yield right, lambda v: compare(constant, v) == truth


def _int(node: c_ast.Node | None) -> int | None:
    node = strip_casts(node)
    if isinstance(node, c_ast.UnaryOp) and node.op == "-":
        inner = _int(node.expr)
        return None if inner is None else -inner
    if isinstance(node, c_ast.Constant) and node.type == "int":
        try:
            return int(node.value.rstrip("uUlL"), 0)
        except ValueError:
            return None
    return None
