"""Open the demo's SQLite incident store, surviving a corrupt file.

A store that is garbage or truncated (a crash mid-write, a disk filling up, a stray copy) is never
deleted: it is moved aside to ``<name>.corrupt-<UTC stamp>`` (with its WAL, which may hold the
only copy of recent writes) and a fresh store is created, and the caller gets a note to show.
"""

from __future__ import annotations

import sqlite3
from datetime import datetime, timezone
from pathlib import Path


def open_or_recover(path: Path, schema: str, now: datetime) -> tuple[sqlite3.Connection, Path | None, str | None]:
    """Open ``path`` (WAL mode, ``schema`` applied); set an unreadable one aside and start fresh.

    Args:
        path: The database file (created when missing).
        schema: SQL run on every open (``CREATE TABLE IF NOT EXISTS ...``).
        now: Time for the ``.corrupt-`` stamp.

    Returns:
        The connection, where a corrupt file was kept (or None) and a note for the user (or None).

    Raises:
        sqlite3.DatabaseError: When even a fresh database cannot be created.
    """
    try:
        return open_checked(path, schema), None, None
    except sqlite3.DatabaseError as error:
        kept = set_aside(path, now)
        note = (f"the incident store {path.absolute()} could not be read ({error}); it was kept as {kept} "
                "and a fresh store was created")
        return open_checked(path, schema), kept, note


def open_checked(path: Path, schema: str) -> sqlite3.Connection:
    """Open the database in WAL mode with the schema, checking first that it is a sound SQLite file.

    Raises:
        sqlite3.DatabaseError: When the file is not a database or fails ``PRAGMA quick_check``
            (SQLite opens garbage lazily, so without the check the error would surface at the first
            read, inside the dashboard).
    """
    db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
    try:
        db.row_factory = sqlite3.Row
        problems = [row[0] for row in db.execute("PRAGMA quick_check").fetchall()]
        if problems != ["ok"]:
            raise sqlite3.DatabaseError("; ".join(problems[:3]))
        db.execute("PRAGMA journal_mode=WAL")
        db.executescript(schema)
    except sqlite3.DatabaseError:
        db.close()
        raise
    return db


def set_aside(path: Path, at: datetime) -> Path:
    """Move an unreadable database (and its WAL and shared-memory files) to ``<name>.corrupt-<UTC stamp>``.

    Args:
        path: The database file.
        at: When; the stamp is ``YYYYmmddTHHMMSSZ`` in UTC.

    Returns:
        Where the database file now is.
    """
    path = path.absolute()  # the note is read from anywhere: name the file unambiguously
    stamp = at.astimezone(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    target = path.with_name(f"{path.name}.corrupt-{stamp}")
    serial = 1
    while target.exists():  # a second recovery in the same second must not overwrite the first
        target = path.with_name(f"{path.name}.corrupt-{stamp}-{serial}")
        serial += 1
    path.replace(target)
    for suffix in ("-wal", "-shm"):
        companion = path.with_name(path.name + suffix)
        if companion.exists():
            # The WAL may hold the only copy of recent writes: keep it next to its database.
            companion.replace(target.with_name(target.name.replace(".corrupt-", suffix + ".corrupt-", 1)))
    return target


