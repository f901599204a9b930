"""On-disk cache of good Wikidata answers, so reruns make no network calls.

One JSON file per answer under ``<cache_dir>/wikidata/<2 hex>/<sha256>.json``, holding the
request description, the retrieval time (enrichment provenance needs it) and the body.
Only answers the client judged good are written (errors never are); writes are atomic
(temp file + rename) so a killed run cannot leave a half-written answer that later reads as good.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Cached:
    body: Any
    retrieved_at: str      # ISO 8601 UTC, when the answer came from the server
    url: str


class Cache:
    def __init__(self, root: str | Path) -> None:
        self.root = Path(root) / "wikidata"
        self.hits = 0
        self.misses = 0
        self.corrupt: list[str] = []

    @staticmethod
    def key(namespace: str, request: Mapping[str, Any]) -> str:
        blob = json.dumps([namespace, sorted((str(k), str(v)) for k, v in request.items())],
                          ensure_ascii=False, separators=(",", ":"))
        return hashlib.sha256(blob.encode()).hexdigest()

    def _path(self, key: str) -> Path:
        return self.root / key[:2] / f"{key}.json"

    def get(self, namespace: str, request: Mapping[str, Any]) -> Cached | None:
        path = self._path(self.key(namespace, request))
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            found = Cached(data["body"], data["retrieved_at"], data.get("url", ""))
        except FileNotFoundError:
            self.misses += 1
            return None
        except (OSError, ValueError, KeyError, TypeError):
            # A damaged entry is a miss (and is overwritten on the next good answer), never an answer.
            self.corrupt.append(str(path))
            self.misses += 1
            return None
        self.hits += 1
        return found

    def put(self, namespace: str, request: Mapping[str, Any], body: Any, *, url: str,
            retrieved_at: str) -> None:
        path = self._path(self.key(namespace, request))
        path.parent.mkdir(parents=True, exist_ok=True)
        record = {"namespace": namespace, "request": dict(request), "url": url,
                  "retrieved_at": retrieved_at, "body": body}
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".json")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(record, fh, ensure_ascii=False)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def __len__(self) -> int:
        return sum(1 for _ in self.root.glob("*/*.json")) if self.root.exists() else 0
