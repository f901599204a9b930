"""W3C Reconciliation Service API (v0.2, form-encoded ``queries``) as an alternative search back end.

The service proposes candidates; details (labels, classes, life dates) still come from
wbgetentities and are scored the same way, so both back ends produce comparable evidence.
The service's own score is kept as evidence only. The service must declare Wikidata's identifier
space in its manifest: ids from any other space are not QIDs and must never reach owl:sameAs.
"""

from __future__ import annotations

import json
from typing import Any

from lod.reconcile import names
from lod.reconcile.client import QID, NotCached, ReconcileError, WikidataClient
from lod.reconcile.search import Found

WIKIDATA_SPACES = ("http://www.wikidata.org/entity/", "http://www.wikidata.org/entity",
                   "https://www.wikidata.org/entity/", "https://www.wikidata.org/wiki/")
TYPES = {"person": "Q5", "organization": "Q43229"}   # places: no type filter (classes vary too much)


class ServiceError(ReconcileError):
    """The configured service is unusable (not Wikidata's identifier space, bad manifest)."""


class ServiceSearch:
    def __init__(self, client: WikidataClient, url: str, *, limit: int = 7) -> None:
        self.client = client
        self.url = url
        self.limit = limit
        self.name = ""

    def check_manifest(self) -> str:
        """Fetch the service manifest and insist on Wikidata's identifier space."""
        body = self.client.get_json(self.url).body
        if not isinstance(body, dict):
            raise ServiceError(f"{self.url}: the service manifest is not a JSON object")
        space = str(body.get("identifierSpace", ""))
        if space not in WIKIDATA_SPACES:
            raise ServiceError(f"{self.url}: identifierSpace {space!r} is not Wikidata's; "
                               "its ids cannot be used as QIDs")
        self.name = str(body.get("name", ""))
        return self.name

    def find(self, entity: Any) -> Found:
        found = Found()
        forms, found.notes = names.search_forms([entity.label, *entity.variants], entity.kind)
        if not forms:
            found.notes.append("no searchable name")
            return found
        queries: dict[str, dict[str, Any]] = {}
        for i, (text, _sc) in enumerate(forms):
            q: dict[str, Any] = {"query": text, "limit": self.limit}
            if entity.kind in TYPES:
                q["type"] = TYPES[entity.kind]
            queries[f"q{i}"] = q
        payload = json.dumps(queries, ensure_ascii=False, sort_keys=True)
        try:
            body = self.client.post_form(self.url, {"queries": payload}).body
        except NotCached as exc:
            found.missing.append(exc.what)
            return found
        except ReconcileError as exc:
            found.failures.append(str(exc))
            return found
        if not isinstance(body, dict):
            found.failures.append(f"{self.url}: reconciliation answer is not a JSON object")
            return found
        for key, (text, _sc) in zip(queries, forms, strict=True):
            results = (body.get(key) or {}).get("result") if isinstance(body.get(key), dict) else None
            if not isinstance(results, list):
                found.failures.append(f"{self.url}: no result list for query {text!r}")
                continue
            found.searched.append({"query": text, "service": self.url, "hits": len(results)})
            for rank, r in enumerate(results, 1):
                qid = str(r.get("id", "")) if isinstance(r, dict) else ""
                if not QID.match(qid):
                    continue
                found.add(qid, f"service {text!r} #{rank} (service score {r.get('score')}, "
                               f"match {bool(r.get('match'))})")
        return found
