"""Text from upstreams made safe to put on a terminal.

Incident titles, commit messages, pod events and error messages come from people and servers we
do not control. Written to the terminal as they are, an ESC or a C1 control (``\\x9b`` is CSI on
its own) starts an escape sequence: it can recolour, move the cursor, retitle the window or hide
text. Bidirectional overrides can make a line read differently from its bytes. Every such
character is shown as its Python escape (``\\x1b``, ``\\u202e``) instead, so it stays visible.
"""

from __future__ import annotations

import re

_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
"""C0 controls except tab and newline, DEL, C1 controls, line/paragraph separators, bidi controls."""
_LINE_BREAK = re.compile(r"\r\n|[\r\n\t]")
"""What becomes a space on a single line (a table cell, a one-line header)."""


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(text: str, *, multiline: bool = False) -> str:
    """``text`` with every character that could control the terminal shown as an escape.

    Args:
        text: Any text from an upstream.
        multiline: Keep newlines and tabs (a block of text, source code); otherwise line breaks
            and tabs become spaces so the text stays on its one line.

    Returns:
        The text; unchanged when it holds no control character.
    """
    if multiline:
        text = text.replace("\r\n", "\n")
    else:
        text = _LINE_BREAK.sub(" ", text)
    return _UNSAFE.sub(_escape, text)
