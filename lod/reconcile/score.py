"""Scoring a Wikidata candidate for an authority entry, with the evidence for every component.

score = 0.50 name + 0.20 type + 0.15 life dates + 0.15 prominence, each component in [0, 1].
A hard contradiction (wrong type, born after a document that mentions the person, died before a
document the person wrote, received or attended) excludes the candidate (score 0) but keeps it in
the review file with the reason, so a reviewer sees why it was set aside.

Auto-accept (docs/reconcile.md) needs ALL of: score >= threshold (0.90), a margin >= 0.20 over the
runner-up, a same-script exact or reordered name match (>= 0.97), a fitting type, and for people
life dates consistent with at least one dated document (dates >= 0.9). With these weights
prominence alone (0.15) can never create the margin, so two namesakes who both fit go to review.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from lod.reconcile import names, wdjson
from lod.reconcile.context import Use

WEIGHTS = {"name": 0.50, "type": 0.20, "dates": 0.15, "prominence": 0.15}
THRESHOLD = 0.90
MARGIN = 0.20
MIN_THRESHOLD = 0.80        # refused below this: an unreviewed weak link must never be published
NAME_EXACT = 0.97
HUMAN = "Q5"
# Classes accepted without asking SPARQL; other classes are checked with wdt:P279* against ROOTS.
PLACE_CLASSES = {
    "Q486972": "human settlement", "Q515": "city", "Q1549591": "big city", "Q5119": "capital city",
    "Q1637706": "city with millions of inhabitants", "Q200250": "metropolis", "Q208511": "global city",
    "Q174844": "megacity", "Q3957": "town", "Q532": "village", "Q6256": "country",
    "Q3624078": "sovereign state", "Q7275": "state", "Q56061": "administrative territorial entity",
    "Q82794": "geographic region", "Q2221906": "geographic location", "Q35657": "U.S. state",
}
ORG_CLASSES = {
    "Q43229": "organization", "Q7278": "political party", "Q327333": "government agency",
    "Q2659904": "government organization", "Q484652": "international organization",
    "Q163740": "nonprofit organization", "Q4830453": "business", "Q3918": "university",
    "Q31855": "research institute", "Q7188": "government", "Q1752346": "committee",
}
ROOTS = {"place": ("Q486972", "Q6256", "Q56061", "Q82794", "Q2221906"), "organization": ("Q43229",)}
KIND_WORDS = {"person": "a human (P31 Q5)", "place": "a settlement, country or region class",
              "organization": "an organisation class"}


@dataclass
class Candidate:
    qid: str
    label: str = ""
    description: str = ""
    born: str = ""
    died: str = ""
    score: float = 0.0
    components: dict[str, float] = field(default_factory=dict)
    evidence: dict[str, str] = field(default_factory=dict)
    excluded: str = ""              # reason a hard contradiction set it aside
    redirected_from: str = ""
    found_by: list[str] = field(default_factory=list)
    exact_name: bool = False

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"qid": self.qid, "score": round(self.score, 3), "label": self.label,
                             "description": self.description}
        if self.born:
            d["born"] = self.born
        if self.died:
            d["died"] = self.died
        d["components"] = {k: round(v, 3) for k, v in self.components.items()}
        d["evidence"] = dict(self.evidence)
        if self.excluded:
            d["excluded"] = self.excluded
        if self.redirected_from:
            d["redirected_from"] = self.redirected_from
        if self.found_by:
            d["found_by"] = list(self.found_by)
        return d


def type_fit(kind: str, classes: list[str], class_kinds: dict[str, set[str]]) -> tuple[float, str, str]:
    """(score, evidence, exclusion reason) for the candidate's P31 classes."""
    shown = ", ".join(classes) or "none"
    if not classes:
        return 0.0, "no P31 (instance of) statement: type unknown", ""
    if kind == "person":
        if HUMAN in classes:
            return 1.0, "P31 Q5 (human)", ""
        what = _what(classes, class_kinds)
        return 0.0, f"P31 {shown}", f"not a human: instance of {shown}{what}"
    known = PLACE_CLASSES if kind == "place" else ORG_CLASSES if kind == "organization" else {}
    for c in classes:
        if c in known:
            return 1.0, f"P31 {c} ({known[c]})", ""
    for c in classes:
        if kind in class_kinds.get(c, set()):
            return 1.0, f"P31 {c}, a subclass of {KIND_WORDS.get(kind)} (SPARQL wdt:P279*)", ""
    unchecked = [c for c in classes if c not in class_kinds]
    if HUMAN in classes:
        return 0.0, f"P31 {shown}", f"a human, not {'a place' if kind == 'place' else 'an organisation'}"
    if unchecked:
        return 0.0, f"P31 {shown}: class(es) {', '.join(unchecked)} could not be checked", ""
    return 0.0, f"P31 {shown}", f"not {KIND_WORDS.get(kind, kind)}: instance of {shown}"


def _what(classes: list[str], class_kinds: dict[str, set[str]]) -> str:
    if any(c in PLACE_CLASSES or "place" in class_kinds.get(c, set()) for c in classes):
        return " (a place)"
    if any(c in ORG_CLASSES or "organization" in class_kinds.get(c, set()) for c in classes):
        return " (an organisation)"
    return ""


def date_fit(born: wdjson.WDTime | None, died: wdjson.WDTime | None, uses: list[Use]
             ) -> tuple[float, str, str]:
    """Life dates against the documents' dates and the person's role in each."""
    if not uses:
        return 0.5, "no dated document uses this entry: life dates not checked", ""
    if born is None and died is None:
        return 0.5, "no birth (P569) or death (P570) date on Wikidata", ""
    life = f"{born.iso if born else '?'}–{died.iso if died else '?'}"
    score, notes = 1.0, []
    for u in uses:
        first, last = u.span
        if born is not None and born.first > last:
            return 0.0, f"life {life}", f"born {born.iso}, after the document: {u.describe()}"
        if u.needs_presence and died is not None and died.last < first:
            return 0.0, f"life {life}", f"died {died.iso}, before {u.describe()}: cannot have been present"
        if u.needs_presence and died is not None and died.first <= last and died.last >= first:
            score = min(score, 0.6)
            notes.append(f"death {died.iso} overlaps {u.describe()}: cannot tell")
        if born is not None and born.first <= last and born.last >= first:
            score = min(score, 0.6)
            notes.append(f"birth {born.iso} overlaps {u.describe()}: cannot tell")
        elif u.needs_presence and born is not None and first[0] - born.last[0] < 12:
            score = min(score, 0.2)
            notes.append(f"aged under 12 at {u.describe()}")
    if born is None or died is None:
        score = min(score, 0.9)
        notes.append("only one life date known")
    present = [u for u in uses if u.needs_presence]
    summary = (f"life {life} consistent with {len(uses)} dated use(s)"
               + (f", alive for {present[0].describe()}" if present and score >= 0.9 else ""))
    return score, "; ".join([summary, *notes]), ""


def authority_dates(entity: Any, born: wdjson.WDTime | None, died: wdjson.WDTime | None
                    ) -> tuple[bool | None, str]:
    """Life dates the authority file already records (from the sources) against Wikidata's."""
    checks = []
    for ours, theirs, what in ((getattr(entity, "birth", ""), born, "born"),
                               (getattr(entity, "death", ""), died, "died")):
        if not ours or theirs is None or not str(ours)[:4].lstrip("-").isdigit():
            continue
        y = int(str(ours)[:4])
        if abs(y - theirs.year) > 1:
            return False, f"authority says {what} {ours}, Wikidata {theirs.iso}"
        checks.append(f"{what} {ours} ~ Wikidata {theirs.iso}")
    if not checks:
        return None, ""
    return True, "authority life dates agree: " + ", ".join(checks)


def prominence(ent: dict[str, Any]) -> tuple[float, str]:
    n = wdjson.sitelink_count(ent)
    return min(1.0, math.log10(1 + n) / 2), f"{n} sitelinks"


def score_candidate(entity: Any, ent: dict[str, Any], uses: list[Use], class_kinds: dict[str, set[str]],
                    *, qid: str, redirected_from: str = "", found_by: list[str] | None = None) -> Candidate:
    born, died = wdjson.time_value(ent, "P569"), wdjson.time_value(ent, "P570")
    cand = Candidate(qid=qid, label=wdjson.label(ent), description=wdjson.description(ent),
                     born=born.iso if born else "", died=died.iso if died else "",
                     redirected_from=redirected_from, found_by=list(found_by or []))
    ours = [entity.label, *entity.variants]
    nm = names.best_match(ours, wdjson.names(ent))
    cand.exact_name = nm.score >= NAME_EXACT
    t_score, t_ev, t_ex = type_fit(entity.kind, wdjson.item_values(ent, "P31"), class_kinds)
    if entity.kind == "person":
        d_score, d_ev, d_ex = date_fit(born, died, uses)
    else:
        d_score, d_ev, d_ex = 1.0, f"not applicable to a {entity.kind}", ""
    a_ok, a_ev = authority_dates(entity, born, died)
    if a_ev:
        d_ev = f"{d_ev}; {a_ev}"
        if a_ok is False:
            d_ex = d_ex or a_ev
        elif a_ok and not d_ex:
            d_score = max(d_score, 1.0 if born and died else 0.9)
    p_score, p_ev = prominence(ent)
    cand.components = {"name": nm.score, "type": t_score, "dates": d_score, "prominence": p_score}
    cand.evidence = {"name": nm.evidence(), "type": t_ev, "dates": d_ev, "prominence": p_ev}
    if redirected_from:
        cand.evidence["redirect"] = f"{redirected_from} redirects to {qid}"
    cand.excluded = t_ex or d_ex
    if nm.score < 0.5 and not cand.excluded:
        cand.excluded = "no label or alias resembles any of our names"
    total = sum(WEIGHTS[k] * v for k, v in cand.components.items())
    cand.score = 0.0 if cand.excluded else round(total, 3)
    return cand


def decide(cands: list[Candidate], *, kind: str, threshold: float = THRESHOLD, margin: float = MARGIN,
           blockers: list[str] | None = None, rejected: set[str] | None = None
           ) -> tuple[Candidate | None, str]:
    """The candidate to auto-accept, or None, with the reason either way."""
    live = sorted((c for c in cands if not c.excluded and c.qid not in (rejected or set())),
                  key=lambda c: -c.score)
    if not live:
        return None, "no candidate fits"
    top = live[0]
    runner = live[1].score if len(live) > 1 else 0.0
    gap = top.score - runner
    why_not = []
    if blockers:
        why_not.extend(blockers)
    if top.score < threshold:
        why_not.append(f"score {top.score:.2f} below threshold {threshold:.2f}")
    if gap < margin:
        why_not.append(f"margin {gap:.2f} over runner-up {live[1].qid if len(live) > 1 else '-'} "
                       f"below {margin:.2f}")
    if top.components.get("name", 0) < NAME_EXACT:
        why_not.append("no exact same-script name match")
    if top.components.get("type", 0) < 1.0:
        why_not.append("type not confirmed")
    if kind == "person" and top.components.get("dates", 0) < 0.9:
        why_not.append("life dates not confirmed against dated documents")
    if why_not:
        return None, "; ".join(why_not)
    return top, f"score {top.score:.2f} >= {threshold:.2f}, margin {gap:.2f} >= {margin:.2f}"


def fits(entity: Any, ent: dict[str, Any], class_kinds: dict[str, set[str]]) -> tuple[bool, str]:
    """Does an existing link still fit (used by --verify)? Name resembles a variant, type fits."""
    nm = names.best_match([entity.label, *entity.variants], wdjson.names(ent))
    t_score, t_ev, t_ex = type_fit(entity.kind, wdjson.item_values(ent, "P31"), class_kinds)
    if t_ex:
        return False, f"type no longer fits: {t_ex}"
    if t_score < 1.0:
        return False, f"type cannot be confirmed: {t_ev}"
    if nm.score < 0.8:
        return False, f"label no longer fits: best {nm.evidence()}"
    return True, f"{nm.evidence()}; {t_ev}"
