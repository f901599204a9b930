"""`lod reconcile --verify`: re-check the QIDs already in the authority against Wikidata today.

Items get merged (the old id becomes a redirect), deleted, or edited until they describe
something else. A redirect is followed and the entry updated, keeping its evidence; a deleted or
no-longer-fitting item is flagged (review status ``flagged``), which stops it being published as
owl:sameAs until a reviewer decides. A failed request changes nothing and is reported.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from lod.reconcile import score, wdjson
from lod.reconcile.client import QID, WikidataClient
from lod.reconcile.search import class_kinds

BY = "lod reconcile --verify"


@dataclass
class Checked:
    id: str
    qid: str
    status: str            # ok | redirected | flagged | failed | unverified
    detail: str
    new_qid: str = ""

    def line(self) -> str:
        arrow = f" -> {self.new_qid}" if self.new_qid else ""
        return f"{self.status:10} {self.id} {self.qid}{arrow}: {self.detail}"


def _flag(entity: Any, reason: str, at: str) -> None:
    entity.review = {"status": "flagged", "by": BY, "at": at, "note": reason}


def verify(authority: Any, client: WikidataClient, *, at: str) -> list[Checked]:
    linked = [e for e in authority.entities.values() if e.wikidata]
    out: list[Checked] = []
    for e in linked:
        if not QID.match(e.wikidata):
            _flag(e, f"{e.wikidata!r} is not a Wikidata item id", at)
            out.append(Checked(e.id, e.wikidata, "flagged", "not a Wikidata item id"))
    ids = [e.wikidata for e in linked if QID.match(e.wikidata)]
    found, failed = client.entities(ids, refresh=not client.offline)
    classes = {c for got in found.values() for c in wdjson.item_values(got.body, "P31")}
    kinds, class_fail, class_miss = class_kinds(client, classes)
    for e in linked:
        qid = e.wikidata
        if not QID.match(qid):
            continue
        if qid in failed:
            out.append(Checked(e.id, qid, "failed", failed[qid]))
            continue
        ent = found[qid].body
        if wdjson.is_missing(ent):
            reason = f"{qid} no longer exists on Wikidata (deleted)"
            _flag(e, reason, at)
            out.append(Checked(e.id, qid, "flagged", reason))
            continue
        red = wdjson.redirect(ent)
        new = ""
        if red and red[1] != qid:
            new = red[1]
            e.wikidata = new
            e.evidence = (f"{e.evidence}; " if e.evidence else "") + \
                f"{qid} was merged into {new} on Wikidata (redirect followed at {at})"
            if e.review:
                e.review = {**e.review, "note": f"{e.review.get('note', '')} [redirect {qid} -> {new} "
                                                f"followed at {at}]".strip()}
        ok, why = score.fits(e, ent, kinds)
        if not ok:
            unchecked = [c for c in wdjson.item_values(ent, "P31") if c not in kinds
                         and c not in score.PLACE_CLASSES and c not in score.ORG_CLASSES and c != score.HUMAN]
            if unchecked and (class_fail or class_miss) and "label" not in why:
                out.append(Checked(e.id, qid, "unverified", f"{why} ({'; '.join(class_fail + class_miss)})", new))
                continue
            _flag(e, f"{new or qid}: {why}", at)
            out.append(Checked(e.id, qid, "flagged", why, new))
            continue
        out.append(Checked(e.id, qid, "redirected" if new else "ok", why, new))
    return out
