"""Where things are in a function body: the safe line for a fix, and what follows a statement.

A mixin of the ownership walk (:class:`analysis.c_ownership.OwnershipCore`).
"""

from __future__ import annotations

from collections.abc import Callable

from pycparser import c_ast

from analysis.c_events import line_of
from analysis.c_state import Owned
from analysis.c_summaries import UnitCallees


class Places:
    """Statement positions of the walk (see the module docstring)."""

    pos: list[tuple[int, int]]
    blocks: dict[int, c_ast.Compound]
    direct: bool
    callees: UnitCallees
    end_line: Callable[[c_ast.Node], int]

    def _aborts_next(self) -> bool:
        """True when the statement after the current one aborts on failure (``assert(p)``,
        ``if (!p) exit(1);``): a failed realloc then loses nothing that matters."""
        if not self.pos:
            return False
        block_id, index = self.pos[-1]
        items = self.blocks[block_id].block_items or [] if block_id in self.blocks else []
        following = items[index + 1] if index + 1 < len(items) else None
        if isinstance(following, c_ast.If):
            following = following.iftrue
            if isinstance(following, c_ast.Compound):
                following = (following.block_items or [None])[-1]
            return (isinstance(following, c_ast.FuncCall) and isinstance(following.name, c_ast.ID)
                    and self.callees.noreturn(following.name.name))
        return (isinstance(following, c_ast.FuncCall) and isinstance(following.name, c_ast.ID)
                and following.name.name in ("assert", "g_assert", "ASSERT"))

    def direct_block(self) -> tuple[c_ast.Compound | None, int | None]:
        """The block and index of the statement being walked, when it is a direct item."""
        if not self.direct or not self.pos:
            return None, None
        block_id, index = self.pos[-1]
        return self.blocks.get(block_id), index

    def fix_line(self, owned: Owned, block: c_ast.Compound | None, limit: int | None) -> int | None:
        """Line after which the release call is safe: after the last use, at ``block``'s level.

        ``limit`` is the index of the statement where the block is lost (return, overwrite) when
        that statement is in ``block``; the fix must then go before it.
        """
        if owned.mixed or owned.aliased or block is None:
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
