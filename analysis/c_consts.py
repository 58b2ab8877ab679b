"""Constant conditions: which branches of a translation unit can never run.

Folds integer expressions built from literals, enumeration constants, ``const`` globals with a
constant initialiser, ``static`` globals that nothing in the unit ever writes (only this unit can
see them, so their initial value is their value), and calls to functions whose every ``return``
yields the same constant. Dead branches are then not walked, so they produce no findings.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from pycparser import c_ast

from analysis.c_uses import strip_casts

_BINARY: dict[str, Callable[[int, int], int]] = {
    "+": lambda a, b: a + b, "-": lambda a, b: a - b, "*": lambda a, b: a * b,
    "&": lambda a, b: a & b, "|": lambda a, b: a | b, "^": lambda a, b: a ^ b,
    "<<": lambda a, b: a << b if 0 <= b < 64 else 0, ">>": lambda a, b: a >> b if 0 <= b < 64 else 0,
    "==": lambda a, b: int(a == b), "!=": lambda a, b: int(a != b), "<": lambda a, b: int(a < b),
    ">": lambda a, b: int(a > b), "<=": lambda a, b: int(a <= b), ">=": lambda a, b: int(a >= b),
    "/": lambda a, b: _c_quotient(a, b) if b else 0,
    "%": lambda a, b: a - b * _c_quotient(a, b) if b else 0,
}


def _c_quotient(a: int, b: int) -> int:
    """C's integer division (truncates toward zero), exact for any size.

    ``int(a / b)`` went through a float: wrong past 2**53 and an OverflowError past 1e308.
    """
    quotient = abs(a) // abs(b)
    return quotient if (a < 0) == (b < 0) else -quotient


def literal(node: c_ast.Node | None) -> int | None:
    """The value of an integer or character literal, else None."""
    if not isinstance(node, c_ast.Constant):
        return None
    value = node.value
    if node.type == "char" and len(value) == 3 and value[0] == value[2] == "'":
        return ord(value[1])
    try:
        return int(value.rstrip("uUlL"), 0)
    except ValueError:
        try:
            return int(value.rstrip("uUlL"), 8) if value.startswith("0") else None
        except ValueError:
            return None


class Constants:
    """Integer constants of one translation unit and a folder for conditions."""

    def __init__(self, ext: Iterable[c_ast.Node]) -> None:
        """Collect the unit's constants.

        Args:
            ext: Top-level nodes of the parsed unit.
        """
        self.values: dict[str, int] = {}
        """Name -> value of enumerators and never-changing globals."""
        self.returns: dict[str, int] = {}
        """Function -> the constant every one of its returns yields."""
        ext = list(ext)
        candidates: dict[str, c_ast.Node | None] = {}
        for node in ext:
            for enum in _find(node, c_ast.Enum):
                self._enum(enum)
            if isinstance(node, c_ast.Decl) and node.name and isinstance(node.type, c_ast.TypeDecl):
                storage, quals = node.storage or [], node.type.quals or []
                if "extern" in storage:
                    continue
                if "const" in quals or "static" in storage:
                    candidates[node.name] = node.init
        written = written_names(ext) if candidates else set()
        for name, init in candidates.items():
            if name in written:
                continue
            value = self.fold(init) if init is not None else 0
            if value is not None:
                self.values[name] = value
        for node in ext:
            if isinstance(node, c_ast.FuncDef):
                self._constant_return(node)

    def fold(self, node: c_ast.Node | None, is_local: Callable[[str], bool] = lambda _n: False
             ) -> int | None:
        """The constant value of an expression, or None when it is not constant.

        Args:
            node: The expression.
            is_local: True for names a local variable shadows (never constant).

        Returns:
            The value, or None.
        """
        try:
            return self._fold(node, is_local)
        except RecursionError:
            # An expression nested deeper than Python's stack (thousands of `+ 1`) is not a
            # condition anyone writes by hand; treating it as unknown keeps every path walked.
            return None

    def _fold(self, node: c_ast.Node | None, is_local: Callable[[str], bool]) -> int | None:
        """:meth:`fold` without the guard, for the recursion."""
        node = strip_casts(node)
        if isinstance(node, c_ast.Constant):
            return literal(node)
        if isinstance(node, c_ast.ID):
            return None if is_local(node.name) else self.values.get(node.name)
        if isinstance(node, c_ast.UnaryOp):
            inner = self._fold(node.expr, is_local) if node.op in "!-~+" else None
            if inner is None:
                return None
            return {"!": int(not inner), "-": -inner, "~": ~inner, "+": inner}[node.op]
        if isinstance(node, c_ast.BinaryOp):
            left = self._fold(node.left, is_local)
            if node.op == "&&" and left == 0 or node.op == "||" and left not in (0, None):
                return int(node.op == "||")
            right = self._fold(node.right, is_local)
            if node.op in ("&&", "||"):
                if right is None or left is None:
                    return None
                return int(bool(left) and bool(right)) if node.op == "&&" else int(left or right)
            if left is None or right is None or node.op not in _BINARY:
                return None
            return _BINARY[node.op](left, right)
        if isinstance(node, c_ast.TernaryOp):
            cond = self._fold(node.cond, is_local)
            if cond is None:
                return None
            return self._fold(node.iftrue if cond else node.iffalse, is_local)
        if isinstance(node, c_ast.FuncCall) and isinstance(node.name, c_ast.ID):
            if node.name.name == "__builtin_expect" and node.args is not None and node.args.exprs:
                return self._fold(node.args.exprs[0], is_local)
            return None if is_local(node.name.name) else self.returns.get(node.name.name)
        return None

    def _enum(self, enum: c_ast.Enum) -> None:
        following = 0
        for item in getattr(enum.values, "enumerators", None) or []:
            value = self.fold(item.value) if item.value is not None else following
            if value is None:
                return  # later enumerators depend on one we cannot fold
            self.values[item.name] = value
            following = value + 1

    def _constant_return(self, func: c_ast.FuncDef) -> None:
        values = {self.fold(ret.expr) if ret.expr is not None else None
                  for ret in _find(func.body, c_ast.Return)}
        if len(values) == 1 and None not in values:
            self.returns[func.decl.name] = values.pop()  # type: ignore[assignment]


def _find(node: c_ast.Node | None, kind: type) -> Iterable[c_ast.Node]:
    if node is None:
        return
    stack = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, kind):
            yield current
        stack.extend(child for _, child in current.children())


def written_names(ext: list[c_ast.Node]) -> set[str]:
    """Names assigned, incremented or whose address is taken anywhere in function bodies."""
    written: set[str] = set()
    for node in ext:
        if not isinstance(node, c_ast.FuncDef):
            continue
        for current in _find(node.body, c_ast.Node):
            target = None
            if isinstance(current, c_ast.Assignment):
                target = current.lvalue
            elif isinstance(current, c_ast.UnaryOp) and current.op in ("&", "++", "--", "p++", "p--"):
                target = current.expr
            target = strip_casts(target)
            if isinstance(target, c_ast.ID):
                written.add(target.name)
            elif target is not None:
                for ident in _find(target, c_ast.ID):
                    written.add(ident.name)
    return written


def trip_count(node: c_ast.For, fold: Callable[[c_ast.Node | None], int | None]) -> int | None:
    """Iterations of ``for (i = a; i < b; i++)`` with constant bounds and a body that leaves
    ``i`` alone (``<=`` and ``!=`` too), else None.

    Args:
        node: The loop.
        fold: Constant folder for the bounds.

    Returns:
        The number of iterations (0 or more), or None when it is not a counted loop.
    """
    init = node.init
    if isinstance(init, c_ast.DeclList) and len(init.decls or []) == 1:
        name, start = init.decls[0].name, fold(init.decls[0].init)
    elif (isinstance(init, c_ast.Assignment) and init.op == "="
          and isinstance(init.lvalue, c_ast.ID)):
        name, start = init.lvalue.name, fold(init.rvalue)
    else:
        return None
    cond, step = node.cond, node.next
    if not (isinstance(cond, c_ast.BinaryOp) and cond.op in ("<", "<=", "!=")
            and isinstance(cond.left, c_ast.ID) and cond.left.name == name):
        return None
    bound = fold(cond.right)
    stepped = (isinstance(step, c_ast.UnaryOp) and step.op in ("++", "p++")
               and isinstance(step.expr, c_ast.ID) and step.expr.name == name) or (
        isinstance(step, c_ast.Assignment) and step.op == "+=" and isinstance(step.lvalue, c_ast.ID)
        and step.lvalue.name == name and fold(step.rvalue) == 1)
    if start is None or bound is None or not stepped or name in written_names([_Body(node.stmt)]):
        return None
    return max(bound - start + (1 if cond.op == "<=" else 0), 0)


class _Body(c_ast.FuncDef):
    """Wraps a loop body so :func:`written_names` scans it like a function body."""

    def __init__(self, body: c_ast.Node | None) -> None:
        self.body = body
        self.decl = None
        self.param_decls = None
        self.coord = None
