"""The read side of the files a build keeps beside its store for serving (the prepared OAI-PMH records,
lod.oai.prepared; the kept descriptions, lod.described): SQLite opened read-only and immutable, and
used only when made with the server's settings (a fingerprint in their ``meta`` table). Otherwise the
server warns and works from the store: same answers, only slower."""

from __future__ import annotations

import sqlite3
import sys
from pathlib import Path
from typing import Any


class KeptFile:
    FILE = ""                   # the file's name in builds/<id>/
    UNREADABLE = ""             # what the server does instead, after "unreadable (...); "
    MISMATCH = ""               # why and what instead, after "<path> was "

    def __init__(self, path: Path) -> None:
        self.db = sqlite3.connect(f"file:{path}?mode=ro&immutable=1", uri=True, check_same_thread=False)
        self.meta = dict(self.db.execute("SELECT name, value FROM meta").fetchall())

    @staticmethod
    def fingerprint(settings: Any) -> str:
        raise NotImplementedError

    @classmethod
    def open(cls, build: Path, settings: Any) -> Any:
        """The build's file if present and made with these settings, else None (warned on standard error)."""
        path = build / cls.FILE
        if not path.is_file():
            return None
        try:
            found = cls(path)
        except sqlite3.Error as exc:
            print(f"lod: warning: {path} unreadable ({exc}); {cls.UNREADABLE}", file=sys.stderr)
            return None
        if found.meta.get("fingerprint") != cls.fingerprint(settings):
            print(f"lod: warning: {path} was {cls.MISMATCH}", file=sys.stderr)
            found.db.close()
            return None
        return found
