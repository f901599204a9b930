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
from functools import lru_cache
from typing import IO, Any

FIELDS = ("time", "ms", "status", "outcome", "form", "format", "rows", "bytes", "truncated", "services")


@lru_cache(maxsize=4)
def _stamp(second: int) -> str:
    return '"' + time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(second)) + '"'


@lru_cache(maxsize=256)
def _string(value: str) -> str:
    return json.dumps(value)


def _value(v: Any) -> str:
    if v is True or v is False:
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    return _string(str(v))


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
        # Hand-assembled JSON: every query writes a line, and json.dumps plus strftime were a quarter of
        # the server's own CPU time for a short query. Strings go through json.dumps (cached: a small set).
        parts = ['{"time":', _stamp(int(time.time()))]
        for k in FIELDS[1:]:
            if k in fields:
                parts += (',"', k, '":', _value(fields[k]))
        line = "".join(parts) + "}\n"
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
