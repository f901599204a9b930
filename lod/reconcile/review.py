"""The review file (<data>/reconcile/review.yaml) and reviewers' decisions.

Per authority entry: the candidates with score, label, description, life dates and the evidence
for each score component; why it was or was not auto-accepted; and every decision (who, when).
Decisions are history and survive reruns; candidates are refreshed by each run. An accepted
QID is written into the authority entry (review status ``accepted``) so the next build emits
``owl:sameAs``; a rejected one is remembered and never proposed for auto-accept again.
"""

from __future__ import annotations

import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from lod.reconcile.client import QID

HEADER = """\
# Wikidata reconciliation review file, written by `lod reconcile` (docs/reconcile.md).
# Decide with:  lod reconcile --accept ENTRY_ID=Q123 [--reviewer NAME] [--note TEXT]
#               lod reconcile --reject ENTRY_ID=Q123
# Candidates are refreshed on every run; decisions are kept. Editing this file by hand changes nothing:
# only --accept/--reject write the authority file.
"""


class ReviewError(ValueError):
    """Unusable review file or decision (usage/system error, exit 2)."""


def review_path(data_dir: str | Path) -> Path:
    return Path(data_dir) / "reconcile" / "review.yaml"


@dataclass
class ReviewFile:
    path: Path
    data: dict[str, Any]

    @classmethod
    def load(cls, path: str | Path) -> ReviewFile:
        p = Path(path)
        if not p.exists():
            return cls(p, {"version": 1, "entries": {}})
        try:
            data = yaml.safe_load(p.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
            raise ReviewError(f"{p}: cannot read the review file: {exc}") from exc
        if data is None:
            data = {}
        if not isinstance(data, dict) or not isinstance(data.get("entries", {}), dict):
            raise ReviewError(f"{p}: not a review file (expected a mapping with 'entries')")
        data.setdefault("version", 1)
        data.setdefault("entries", {})
        for key, entry in data["entries"].items():
            if not isinstance(entry, dict):
                raise ReviewError(f"{p}: entry {key}: expected a mapping")
        return cls(p, data)

    @property
    def entries(self) -> dict[str, dict[str, Any]]:
        return self.data["entries"]

    def entry(self, entity_id: str) -> dict[str, Any]:
        return self.entries.setdefault(entity_id, {})

    def decisions(self, entity_id: str) -> list[dict[str, Any]]:
        d = self.entries.get(entity_id, {}).get("decisions")
        return d if isinstance(d, list) else []

    def rejected(self, entity_id: str) -> set[str]:
        return {str(d.get("qid")) for d in self.decisions(entity_id)
                if isinstance(d, dict) and d.get("action") == "reject"}

    def save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        text = HEADER + yaml.safe_dump(self.data, sort_keys=False, allow_unicode=True, width=110)
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".review-", suffix=".yaml")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(text)
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise


def parse_decision(text: str, flag: str) -> tuple[str, str]:
    """'liu-shaoqi=Q16988' -> ('liu-shaoqi', 'Q16988'); malformed input is a usage error."""
    entity_id, sep, qid = text.partition("=")
    entity_id, qid = entity_id.strip(), qid.strip().upper()
    if not sep or not entity_id:
        raise ReviewError(f"{flag} {text!r}: expected ENTRY_ID=Q123")
    if not QID.match(qid):
        raise ReviewError(f"{flag} {text!r}: {qid or 'nothing'} is not a Wikidata item id (Q followed by digits)")
    return entity_id, qid


def _append_evidence(entity: Any, text: str) -> None:
    old = (entity.evidence or "").strip()
    entity.evidence = f"{old}; {text}" if old else text


def apply_decisions(authority: Any, review: ReviewFile, accepts: list[tuple[str, str]],
                    rejects: list[tuple[str, str]], *, by: str, at: str, note: str = "") -> list[str]:
    """Record decisions in the review file and the authority. All are checked before any is applied."""
    problems = []
    for eid, qid in [*accepts, *rejects]:
        if eid not in authority.entities:
            problems.append(f"no authority entry with id {eid!r} (for {qid})")
    both = {a for a in accepts} & {r for r in rejects}
    problems.extend(f"{e}={q} is both accepted and rejected" for e, q in sorted(both))
    seen: dict[str, str] = {}
    for eid, qid in accepts:
        if eid in seen and seen[eid] != qid:
            problems.append(f"{eid}: two different QIDs accepted ({seen[eid]}, {qid})")
        seen[eid] = qid
    if problems:
        raise ReviewError("; ".join(problems))
    messages = []
    for eid, qid in rejects:
        ent = authority.entities[eid]
        review.entry(eid).setdefault("decisions", []).append(
            {"action": "reject", "qid": qid, "by": by, "at": at, **({"note": note} if note else {})})
        if ent.wikidata == qid:
            ent.wikidata = ""
            ent.confidence = ""
            ent.review = {"status": "rejected", "by": by, "at": at, "note": note or f"{qid} rejected"}
            _append_evidence(ent, f"{qid} rejected by {by} at {at}")
            review.entry(eid)["status"] = "rejected"
            review.entry(eid).pop("accepted", None)
            messages.append(f"{eid}: {qid} rejected and removed from the authority entry")
        else:
            messages.append(f"{eid}: {qid} rejected (will not be proposed for auto-accept)")
    for eid, qid in accepts:
        ent = authority.entities[eid]
        entry = review.entry(eid)
        entry.setdefault("decisions", []).append(
            {"action": "accept", "qid": qid, "by": by, "at": at, **({"note": note} if note else {})})
        known = {c.get("qid") for c in entry.get("candidates", []) if isinstance(c, dict)}
        previous = ent.wikidata
        ent.wikidata = qid
        ent.review = {"status": "accepted", "by": by, "at": at, "note": note or "accepted in review"}
        _append_evidence(ent, f"{qid} accepted by {by} at {at}" + (f" (was {previous})" if previous and
                                                                      previous != qid else ""))
        entry["status"] = "accepted"
        entry["accepted"] = qid
        messages.append(f"{eid}: {qid} accepted by {by}"
                        + ("" if qid in known else " (note: not among the reconciler's candidates)"))
    return messages


def reviewer_name(explicit: str | None) -> str:
    name = (explicit or os.environ.get("USER") or os.environ.get("USERNAME") or "").strip()
    if not name or not re.fullmatch(r"[^\r\n]{1,100}", name):
        raise ReviewError("who decides? pass --reviewer NAME (or set $USER)")
    return name
