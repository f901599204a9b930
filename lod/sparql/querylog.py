"""The query log: one JSON line per SPARQL request, for capacity planning and abuse spotting.

What it records: UTC time, duration, HTTP status, outcome, query form, result format, rows, bytes,
whether the result was truncated, and how many SERVICE calls were made. What it never records: the
client's address, its User-Agent or other headers, and the query text (a query can carry what a
researcher is looking for; we do not keep it). Written to ``settings.query_log`` (appended) or to
standard error when that is empty.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from typing import IO, Any

FIELDS = ("time", "ms", "status", "outcome", "form", "format", "rows", "bytes", "truncated", "services")


class QueryLog:
    def __init__(self, path: str = "") -> None:
        self.path = path
        self._lock = threading.Lock()
        self._fh: IO[str] | None = None

    def _stream(self) -> IO[str]:
        if not self.path:
            return sys.stderr
        if self._fh is None:
            self._fh = open(self.path, "a", encoding="utf-8", buffering=1)  # noqa: SIM115 - kept open
        return self._fh

    def write(self, **fields: Any) -> None:
        record = {"time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
        record.update({k: fields[k] for k in FIELDS if k in fields and k != "time"})
        line = json.dumps(record, separators=(",", ":")) + "\n"
        with self._lock:
            try:
                self._stream().write(line)
            except OSError:
                pass  # a full disk must not fail the query

    def close(self) -> None:
        with self._lock:
            if self._fh is not None:
                self._fh.close()
                self._fh = None
