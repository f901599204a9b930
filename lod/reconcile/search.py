"""Candidate search (Action API wbsearchentities) and class checks (Wikidata Query Service).

Every cleaned name variant is searched in the language of its script (Latin -> en, Han -> zh,
Cyrillic -> ru) with ``language`` and ``uselang`` set, so Chinese and Russian labels are matched
where they live. Failures and offline cache misses are collected per entry, never raised past it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from lod.reconcile import names
from lod.reconcile.client import NotCached, ReconcileError, WikidataClient
from lod.reconcile.score import HUMAN, ORG_CLASSES, PLACE_CLASSES, ROOTS

SPARQL_BATCH = 100


@dataclass
class Found:
    hits: dict[str, list[str]] = field(default_factory=dict)   # qid -> how it was found, in rank order
    searched: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)              # problems with the names themselves
    failures: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)            # offline: not in cache

    def add(self, qid: str, how: str) -> None:
        self.hits.setdefault(qid, []).append(how)


class Searcher(Protocol):
    def find(self, entity: Any) -> Found: ...


class ApiSearch:
    """wbsearchentities per cleaned variant, in the language of its script."""

    def __init__(self, client: WikidataClient, *, limit: int = 7) -> None:
        self.client = client
        self.limit = limit

    def find(self, entity: Any) -> Found:
        found = Found()
        forms, found.notes = names.search_forms([entity.label, *entity.variants], entity.kind)
        if not forms:
            found.notes.append("no searchable name")
        for text, sc in forms:
            lang = names.SEARCH_LANGUAGE[sc]
            try:
                hits = self.client.search(text, lang, limit=self.limit)
            except NotCached as exc:
                found.missing.append(exc.what)
                continue
            except ReconcileError as exc:
                found.failures.append(str(exc))
                continue
            found.searched.append({"query": text, "language": lang, "hits": len(hits)})
            for rank, hit in enumerate(hits, 1):
                found.add(str(hit["id"]), f"search {text!r} [{lang}] #{rank}")
        return found


def class_kinds(client: WikidataClient, classes: set[str]
                ) -> tuple[dict[str, set[str]], list[str], list[str]]:
    """Which kinds (place, organization) each class is a subclass of, by SPARQL ``wdt:P279*``.

    Returns (kinds per checked class, failures, offline misses). Built-in classes are not asked;
    a class absent from the result could not be checked (its candidates go to review, never excluded).
    """
    ask = sorted(c for c in classes if c != HUMAN and c not in PLACE_CLASSES and c not in ORG_CLASSES)
    result: dict[str, set[str]] = {}
    failures: list[str] = []
    missing: list[str] = []
    if not ask:
        return result, failures, missing
    root_kind = {r: k for k, roots in ROOTS.items() for r in roots}
    for start in range(0, len(ask), SPARQL_BATCH):
        batch = ask[start:start + SPARQL_BATCH]
        query = ("SELECT DISTINCT ?c ?root WHERE { VALUES ?c { " + " ".join(f"wd:{c}" for c in batch)
                 + " } VALUES ?root { " + " ".join(f"wd:{r}" for r in sorted(root_kind))
                 + " } ?c wdt:P279* ?root . }")
        query = ("PREFIX wd: <http://www.wikidata.org/entity/>\n"
                 "PREFIX wdt: <http://www.wikidata.org/prop/direct/>\n" + query)
        try:
            body = client.sparql(query).body
            rows = body["results"]["bindings"]
        except NotCached as exc:
            missing.append(exc.what)
            continue
        except ReconcileError as exc:
            failures.append(f"class check: {exc}")
            continue
        except (KeyError, TypeError):
            failures.append("class check: SPARQL answer is not SPARQL results JSON")
            continue
        for c in batch:
            result[c] = set()
        for row in rows:
            try:
                c = row["c"]["value"].rsplit("/", 1)[-1]
                r = row["root"]["value"].rsplit("/", 1)[-1]
            except (KeyError, TypeError, AttributeError):
                continue
            if c in result and r in root_kind:
                result[c].add(root_kind[r])
    return result, failures, missing
