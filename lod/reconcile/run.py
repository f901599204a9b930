"""One `lod reconcile` run, without click: the CLI and the benchmark both call ``run``.

Order: decisions (--accept/--reject) -> verify (--verify) -> reconcile the entries without a
published QID (unless the run only records decisions) -> enrichment. The authority file is
written only when something in it changed; the review file after every run that touched it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lod import __version__
from lod.reconcile import score, wdjson
from lod.reconcile.client import QID, WikidataClient, now
from lod.reconcile.context import Use
from lod.reconcile.enrich import Enriched, enrich
from lod.reconcile.review import ReviewFile, apply_decisions
from lod.reconcile.search import Found, Searcher, class_kinds
from lod.reconcile.verify import Checked, verify

AUTO_BY = f"lod reconcile {__version__} (auto-accept rule, docs/reconcile.md)"
KINDS = ("person", "place", "organization")


@dataclass
class Outcome:
    id: str
    label: str
    kind: str
    status: str                 # auto-accepted | review | no-candidates | incomplete
    reason: str
    candidates: list[score.Candidate] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    accepted: str = ""

    def line(self) -> str:
        top = self.candidates[0] if self.candidates else None
        best = f" best {top.qid} {top.label!r} {top.score:.2f}" if top and not top.excluded else ""
        return f"{self.status:13} {self.id} ({self.kind}){best}: {self.reason}"


@dataclass
class Report:
    outcomes: list[Outcome] = field(default_factory=list)
    checked: list[Checked] = field(default_factory=list)
    decisions: list[str] = field(default_factory=list)
    enriched: Enriched | None = None
    warnings: list[str] = field(default_factory=list)
    requests: int = 0
    cache_hits: int = 0

    @property
    def failures(self) -> list[str]:
        out = [f"{o.id}: {f}" for o in self.outcomes for f in o.failures]
        out += [c.line() for c in self.checked if c.status in ("failed", "unverified")]
        if self.enriched:
            out += [f"enrichment {f}" for f in self.enriched.failures]
        return out

    @property
    def missing(self) -> list[str]:
        out = [f"{o.id}: {m}" for o in self.outcomes for m in o.missing]
        if self.enriched:
            out += [f"enrichment {m}" for m in self.enriched.missing]
        return out

    @property
    def flagged(self) -> list[Checked]:
        return [c for c in self.checked if c.status == "flagged"]

    @property
    def exit_code(self) -> int:
        return 1 if self.failures or self.missing or self.flagged else 0


def targets(authority: Any) -> list[Any]:
    """Entries without a published QID: no link yet, an unconfirmed one, a flagged or rejected one."""
    return [e for e in authority.entities.values() if e.kind in KINDS and e.published_qid() is None]


def reconcile(authority: Any, review: ReviewFile, searcher: Searcher, client: WikidataClient,
              uses: dict[str, list[Use]], *, threshold: float = score.THRESHOLD,
              margin: float = score.MARGIN, at: str | None = None) -> list[Outcome]:
    at = at or now()
    todo = targets(authority)
    found: dict[str, Found] = {e.id: searcher.find(e) for e in todo}
    for e in todo:        # an unconfirmed QID already in the authority is a candidate to confirm
        if e.wikidata and QID.match(e.wikidata):
            found[e.id].add(e.wikidata, f"already in the authority ({e.confidence or 'no'} confidence)")
    all_ids = list(dict.fromkeys(q for f in found.values() for q in f.hits))
    got, failed = client.entities(all_ids)
    classes = {c for g in got.values() for c in wdjson.item_values(g.body, "P31")}
    kinds, class_fail, class_miss = class_kinds(client, classes)
    outcomes = []
    for e in todo:
        f = found[e.id]
        o = Outcome(e.id, e.label, e.kind, "review", "", notes=list(f.notes), failures=list(f.failures),
                    missing=list(f.missing))
        by_target: dict[str, score.Candidate] = {}
        for qid, how in f.hits.items():
            if qid in failed:
                (o.missing if "offline" in failed[qid] else o.failures).append(f"{qid}: {failed[qid]}")
                continue
            body = got[qid].body
            if wdjson.is_missing(body):
                o.notes.append(f"{qid} found by search but deleted on Wikidata")
                continue
            target = str(body.get("id") or qid)
            if target in by_target:
                by_target[target].found_by.extend(how)
                continue
            by_target[target] = score.score_candidate(e, body, uses.get(e.id, []), kinds, qid=target,
                                                      redirected_from=qid if target != qid else "",
                                                      found_by=how)
        if e.kind != "person" and (class_fail or class_miss):
            # only an entry whose candidates have a class that could not be checked is incomplete
            mine = {c for q in f.hits if q in got for c in wdjson.item_values(got[q].body, "P31")}
            if any(c not in kinds and c not in score.PLACE_CLASSES and c not in score.ORG_CLASSES
                   and c != score.HUMAN for c in mine):
                o.failures.extend(x for x in class_fail if x not in o.failures)
                o.missing.extend(x for x in class_miss if x not in o.missing)
        o.candidates = sorted(by_target.values(), key=lambda c: (-c.score, c.excluded != "", c.qid))
        o.notes.extend(_also_names(e, o.candidates))
        blockers = [n for n in o.notes if n.startswith("only initials")]
        if o.failures or o.missing:
            blockers.append("search incomplete (failures or cache misses)")
        pick, why = score.decide(o.candidates, kind=e.kind, threshold=threshold, margin=margin,
                                 blockers=blockers, rejected=review.rejected(e.id))
        if pick is not None:
            _auto_accept(e, pick, why, at)
            o.status, o.accepted = "auto-accepted", pick.qid
        elif not [c for c in o.candidates if not c.excluded]:
            o.status = "incomplete" if (o.failures or o.missing) else "no-candidates"
        else:
            o.status = "incomplete" if (o.failures or o.missing) else "review"
        o.reason = why
        _write_entry(review, e, f, o, at)
        outcomes.append(o)
    return outcomes


def _also_names(e: Any, cands: list[score.Candidate]) -> list[str]:
    """'A name that is also a place' (and the reverse): report exact-name candidates of another kind."""
    out = []
    for c in cands:
        if not (c.excluded and c.exact_name):
            continue
        if e.kind == "person" and "(a place)" in c.excluded:
            out.append(f"the name also names a place: {c.qid} {c.label!r} ({c.description}) - excluded")
        elif e.kind != "person" and c.excluded.startswith("a human"):
            out.append(f"the name also names a person: {c.qid} {c.label!r} ({c.description}) - excluded")
    return out


def _auto_accept(e: Any, c: score.Candidate, why: str, at: str) -> None:
    previous = e.wikidata
    e.wikidata = c.qid
    e.review = {"status": "auto-accepted", "by": AUTO_BY, "at": at,
                "note": f"{why}; evidence in reconcile/review.yaml"}
    note = f"{c.qid} auto-accepted by the reconciler at {at} ({why})"
    if previous and previous != c.qid:
        note += f"; replaces unconfirmed {previous}"
    e.evidence = f"{e.evidence}; {note}" if e.evidence else note


def _write_entry(review: ReviewFile, e: Any, f: Found, o: Outcome, at: str) -> None:
    entry = review.entry(e.id)
    rejected = review.rejected(e.id)
    keep = {k: entry[k] for k in ("decisions", "verify") if k in entry}
    entry.clear()
    entry.update({"label": e.label, "kind": e.kind, "status": o.status, "reason": o.reason})
    if e.wikidata and o.status != "auto-accepted":
        entry["current"] = {"qid": e.wikidata, "confidence": e.confidence or "none",
                            "review": (e.review or {}).get("status", "none")}
    if o.accepted:
        entry["accepted"] = o.accepted
    entry["searched_at"] = at
    entry["searched"] = f.searched
    for name, items in (("notes", o.notes), ("failures", o.failures), ("missing", o.missing)):
        if items:
            entry[name] = list(dict.fromkeys(items))
    entry["candidates"] = [{**c.to_dict(), **({"rejected": True} if c.qid in rejected else {})}
                           for c in o.candidates]
    entry.update(keep)


def run_verify(authority: Any, review: ReviewFile, client: WikidataClient, at: str) -> list[Checked]:
    checked = verify(authority, client, at=at)
    for c in checked:
        entry = review.entry(c.id)
        entry.setdefault("label", authority.entities[c.id].label)
        entry["verify"] = {"at": at, "qid": c.qid, "status": c.status, "detail": c.detail,
                           **({"now": c.new_qid} if c.new_qid else {})}
        if c.status == "flagged":
            entry["status"] = "flagged"
    return checked


def decide_only(authority: Any, review: ReviewFile, accepts: list[tuple[str, str]],
                rejects: list[tuple[str, str]], *, by: str, note: str, at: str) -> list[str]:
    return apply_decisions(authority, review, accepts, rejects, by=by, at=at, note=note)


def write_enrichment(authority: Any, client: WikidataClient, data_dir: Path, at: str) -> Enriched:
    return enrich(authority, client, data_dir / "wikidata" / "enrichment.ttl", at=at)
