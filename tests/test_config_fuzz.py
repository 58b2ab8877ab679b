"""Property: any config file either loads or raises one ConfigError naming the file, line and key.

Documents are built from the config's real tables and keys (plus misspelt and secret-like ones)
with values of every TOML type, and the generator remembers the line of every key and table it
wrote; random text and random bytes are fed too. :func:`tui.config.load_config` must never raise
anything but :class:`~tui.config.ConfigError`, whose message starts with the file, and which points
at the exact line of the key it names whenever that key is on a line of its own.
"""

from __future__ import annotations

import json
import re
import tomllib
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from tui.config import ConfigError, load_config

TABLES = {
    "pagerduty": ["api_url", "from_email"],
    "kubernetes": ["context"],
    "github": ["api_url"],
    "prometheus": ["url"],
    "service": ["pagerduty_service", "namespace", "selector", "container", "repository", "branch", "sources"],
}
"""The config's real tables and their keys."""
EXTRA_KEYS = ["api_token", "password", "selecter", "url", "sources", "x-y", "service", '"selector"', "'branch'",
              '"weird key"', '"tab\\there"']
"""Keys that do not belong (misspelt, secret-like, in the wrong table)."""
GOOD_VALUES = {"selector": '"app=worker-app"', "repository": '"acme/ledger"', "sources": '["*.c"]'}
"""Valid values, so that documents get past the first check often enough to reach the later ones."""

SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                           HealthCheck.too_slow])

text_values = st.text(st.characters(blacklist_categories=("Cs",)), max_size=30)
scalar = st.one_of(
    text_values.map(json.dumps),  # a TOML basic string (JSON's escapes are TOML's)
    text_values.filter(lambda t: "'" not in t and "\n" not in t and "\r" not in t).map(lambda t: f"'{t}'"),
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
    st.floats(allow_nan=False, allow_infinity=False).map(repr),
    st.sampled_from(["true", "false", "inf", "nan", "1979-05-27T07:32:00Z", "07:32:00", "1979-05-27"]),
    st.datetimes(min_value=datetime(1, 1, 1)).map(lambda d: d.isoformat()),
)
value = st.recursive(
    scalar,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4).map(lambda items: "[" + ", ".join(items) + "]"),
        st.dictionaries(st.sampled_from(["a", "url", "b_c", "token"]), inner, max_size=3).map(
            lambda d: "{" + ", ".join(f"{k} = {v}" for k, v in d.items()) + "}"),
    ),
    max_leaves=6,
)


@dataclass
class Document:
    """A generated config text and where each key and table landed."""

    lines: list[str] = field(default_factory=list)
    """The text, line by line."""
    where: dict[str, int] = field(default_factory=dict)
    """Dotted key (``service[1].selector``, ``pagerduty``) -> 1-based line."""
    ambiguous: set[str] = field(default_factory=set)
    """Keys written more than once (their line is not a single answer)."""

    def add(self, line: str, key: str | None = None) -> None:
        """Append a line; remember it as ``key``'s line."""
        self.lines.append(line)
        if key is not None:
            if key in self.where:
                self.ambiguous.add(key)
            self.where.setdefault(key, len(self.lines))

    @property
    def text(self) -> str:
        """The whole file."""
        return "\n".join(self.lines) + "\n"


def dotted_name(written: str) -> str:
    """How an error names a key written as ``written`` (bare, or quoted when it is not a bare key)."""
    name = tomllib.loads(f"{written} = 0").popitem()[0]
    return name if re.fullmatch(r"[A-Za-z0-9_-]+", name) else json.dumps(name)


@st.composite
def documents(draw: st.DrawFn) -> Document:
    """A config built from the real tables and keys, with random values, order and extras."""
    doc = Document()
    if draw(st.booleans()):  # a top-level key before any table
        key = draw(st.sampled_from(["service", "pagerduty", "token", "debug"]))
        doc.add(f"{key} = {draw(value)}", key)
    services = 0
    for table in draw(st.lists(st.sampled_from([*TABLES, "service", "service", "extras"]), max_size=6)):
        if table == "service" and draw(st.integers(0, 5)) > 0:
            doc.add("[[service]]", f"service[{services}]")
            prefix = f"service[{services}]"
            services += 1
        else:
            doc.add(f"[{table}]", table)
            prefix = table
        keys = draw(st.lists(st.sampled_from(TABLES.get(table, []) + EXTRA_KEYS), max_size=8, unique=True))
        for key in keys:
            good = GOOD_VALUES.get(key, '"x"')
            doc.add(f"{key} = {draw(st.one_of(st.just(good), value))}", f"{prefix}.{dotted_name(key)}")
        if draw(st.integers(0, 9)) == 0:
            doc.add(draw(st.sampled_from(["key = ", "= 1", "[broken", 'k = "open', "a.b = 1", "[[service]"])))
    return doc


def check_error(path: Path, text: str, error: ConfigError) -> None:
    """The error's contract: one message starting with the file; a line inside the file, if any."""
    message = str(error)
    assert message.startswith(str(path)) and "\n" not in message and "\r" not in message, message
    assert error.path == path
    if error.line is not None:
        assert 1 <= error.line <= max(1, len(text.splitlines()) + 1), (error.line, message)
        assert message.startswith(f"{path}:{error.line}: ")
    if error.key is not None:
        assert f": {error.key}: " in message


@SETTINGS
@given(doc=documents())
def test_generated_configs_load_or_name_the_line_and_key(tmp_path_factory, doc: Document) -> None:
    # GIVEN a document built from the config's tables and keys
    path = tmp_path_factory.mktemp("fuzz") / "config.toml"
    path.write_text(doc.text, encoding="utf-8")
    # WHEN it is loaded THEN it loads, or raises ConfigError and nothing else
    try:
        config = load_config(path)
    except ConfigError as error:
        check_error(path, doc.text, error)
        # AND an error about a key written once, on its own line, points at that line
        if error.key in doc.where and error.key not in doc.ambiguous:
            assert error.line == doc.where[error.key], (error.line, doc.where[error.key], str(error), doc.text)
    else:
        assert config.path == path and all(s.selector and "/" in s.repository for s in config.services)


@SETTINGS
@given(text=st.text(st.characters(blacklist_categories=("Cs",)), max_size=300))
@example(text="a = " + "[" * 5000)  # deeper than Python's recursion limit: tomllib recurses per level
@example(text='"line\\nbreak" = 1\n[pagerduty]\n"api\\rurl" = "x"\n')  # keys holding line breaks
@example(text="[[service]]\r\nnamespace = 1\r\n")
def test_random_text_loads_or_gives_one_config_error(tmp_path_factory, text: str) -> None:
    path = tmp_path_factory.mktemp("fuzz") / "config.toml"
    path.write_text(text, encoding="utf-8", newline="")
    try:
        load_config(path)
    except ConfigError as error:
        check_error(path, text, error)


@SETTINGS
@given(data=st.binary(max_size=200))
@example(data=b"\xff\xfe[pagerduty]\n")
def test_random_bytes_load_or_give_one_config_error(tmp_path_factory, data: bytes) -> None:
    path = tmp_path_factory.mktemp("fuzz") / "config.toml"
    path.write_bytes(data)
    try:
        load_config(path)
    except ConfigError as error:
        check_error(path, data.decode("utf-8", "replace"), error)
