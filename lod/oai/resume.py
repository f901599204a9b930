"""Continuing a harvest across a rebuild: is the keyset cursor still exact in the new build?"""

from __future__ import annotations

import sqlite3
from typing import Any

from lod.oai import tokens


def count_upto(repo: Any, tok: tokens.Token) -> int:
    """Records of the token's list at or before its cursor in the current build."""
    sql, args = repo.store.catalog._filter(tok.start, tok.until, tok.set_spec)
    sql = sql.replace("SELECT r.*", "SELECT COUNT(*)") + " AND (r.datestamp, r.key) <= (?, ?)"
    return repo.store.catalog.db.execute(sql, [*args, *tok.after]).fetchone()[0]


def rebuilt_since(repo: Any, tok: tokens.Token) -> str | None:
    """Why continuing after ``tok.after`` in the current build could skip or silently drop records.

    Keyset paging stays exact across a rebuild when every record at or before the cursor is the same
    in both builds: records the rebuild changed, added or deleted then carry a newer datestamp, lie
    after the cursor and are sent (once, in their new state) later in this harvest. So compare the
    two catalogs up to the cursor; any difference, or a build that is gone, means the harvest must
    restart (None: safe to continue).
    """
    root = repo.store.root
    old = root / "builds" / tok.build / "catalog.sqlite" if root else None
    new = repo.store.build / "catalog.sqlite"
    if old is None or "/" in tok.build or not old.is_file():
        return "the build it started on is no longer kept"
    db = sqlite3.connect(f"file:{new}?mode=ro&immutable=1", uri=True)
    try:
        db.execute("ATTACH DATABASE ? AS old", (f"file:{old}?mode=ro&immutable=1",))
        changed = db.execute(
            "SELECT n.key FROM main.records n LEFT JOIN old.records o ON o.key = n.key "
            "WHERE (n.datestamp, n.key) <= (?, ?) AND (o.key IS NULL OR o.datestamp != n.datestamp "
            "OR o.checksum != n.checksum OR o.deleted != n.deleted OR o.sets != n.sets) LIMIT 1",
            tok.after).fetchone()
        if changed:
            return f"record {changed[0]!r} changed without a newer datestamp"
        gone = db.execute(
            "SELECT o.key FROM old.records o LEFT JOIN main.records n ON n.key = o.key "
            "WHERE (o.datestamp, o.key) <= (?, ?) AND n.key IS NULL LIMIT 1", tok.after).fetchone()
        if gone:
            return f"record {gone[0]!r} vanished without a deleted record"
    except sqlite3.Error as exc:
        return f"its catalog cannot be compared ({exc})"
    finally:
        db.close()
    return None
