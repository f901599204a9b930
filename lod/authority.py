"""The authority: people, places and organisations with their name variants and Wikidata links.

``data/authority.yaml`` is curated by hand and grown by ``lod import`` (unknown names become
entries without QIDs). A QID is published as owl:sameAs only when its evidence is strong
(confidence "high") or a reviewer accepted it; nothing here ever invents a QID.
``import_sources`` (re)reads the evidenced QIDs and variants kept in data/sources/authority/.
"""

from __future__ import annotations

import csv
import re
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

import yaml

from lod import names
from lod.mentions import Matcher
from lod.records import RecordError
from lod.uris import slugify

KINDS = ("person", "place", "organization")
CONFIDENCE = ("high", "medium", "low", "")
REVIEW_STATUS = ("accepted", "rejected", "auto-accepted", "flagged")
HEADER = """\
# Authority file: people, places and organisations (see docs/sources.md).
# Edit freely. wikidata: a QID only with evidence; it is published as owl:sameAs only when
# confidence is high or review.status is accepted/auto-accepted. Never add a QID without evidence.
"""


class _Loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """libyaml when available (same safe subset, ~10x faster on a large authority). Unquoted dates stay
    text: PyYAML would raise a bare ValueError on ``birth: 1954-02-31`` (and dates are text here anyway)."""


_Loader.add_constructor("tag:yaml.org,2002:timestamp", lambda loader, node: loader.construct_scalar(node))


@dataclass
class Entity:
    id: str
    label: str
    kind: str
    variants: list[str] = field(default_factory=list)
    wikidata: str = ""
    confidence: str = ""
    evidence: str = ""
    review: dict[str, Any] | None = None
    birth: str = ""
    death: str = ""
    description: str = ""

    def published_qid(self) -> str | None:
        """The QID to publish as owl:sameAs, or None while it is unconfirmed, flagged or rejected."""
        if not self.wikidata:
            return None
        status = (self.review or {}).get("status", "")
        if status in ("flagged", "rejected"):
            return None
        if self.confidence == "high" or status in ("accepted", "auto-accepted"):
            return self.wikidata
        return None

    def names(self) -> list[str]:
        return [self.label, *self.variants]

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v not in ("", [], None, {})}

    @classmethod
    def from_dict(cls, data: Any, *, file: str) -> Entity:
        if not isinstance(data, dict):
            raise RecordError("an entity must be a mapping", file=file)
        ident = str(data.get("id", "")).strip()
        where = {"file": file, "record": ident or None}
        unknown = set(data) - {f.name for f in fields(cls)}
        if unknown:
            raise RecordError(f"unknown field(s) {sorted(unknown)}", field=sorted(unknown)[0], **where)
        for name in ("id", "label", "kind"):
            if not isinstance(data.get(name), str) or not data[name].strip():
                raise RecordError(f"missing or non-text '{name}'", field=name, **where)
        if data["kind"] not in KINDS:
            raise RecordError(f"kind must be one of {KINDS}", field="kind", **where)
        variants = data.get("variants", []) or []
        if not isinstance(variants, list) or not all(isinstance(v, str) for v in variants):
            raise RecordError("variants must be a list of text", field="variants", **where)
        for name in ("wikidata", "confidence", "evidence", "birth", "death", "description"):
            if not isinstance(data.get(name, ""), str | int):
                raise RecordError("expected text", field=name, **where)
        qid = str(data.get("wikidata", "") or "")
        if qid and not re.fullmatch(r"Q[1-9]\d*", qid):
            raise RecordError(f"not a Wikidata QID: {qid!r}", field="wikidata", **where)
        if data.get("confidence", "") not in CONFIDENCE:
            raise RecordError(f"confidence must be one of {CONFIDENCE[:3]}", field="confidence", **where)
        review = data.get("review")
        if review is not None and (not isinstance(review, dict) or review.get("status") not in REVIEW_STATUS):
            raise RecordError(f"review must be a mapping with status one of {REVIEW_STATUS}",
                              field="review", **where)
        return cls(**{**data, "variants": list(variants), "wikidata": qid,
                      **{k: str(data[k]) for k in ("birth", "death") if k in data}})


class Authority:
    def __init__(self, entities: dict[str, Entity] | None = None) -> None:
        self.entities: dict[str, Entity] = {}
        self._by_key: dict[str, list[str]] = {}
        self._by_surname: dict[str, list[tuple[str, list[list[str]]]]] = {}
        self._matcher: Matcher | None = None
        for e in (entities or {}).values():
            self._add(e)

    # --- files ---------------------------------------------------------------------------
    @classmethod
    def load(cls, path: Path | str) -> Authority:
        """Read authority.yaml; a missing file is an empty authority, a broken one a RecordError."""
        path = Path(path)
        if not path.exists():
            return cls()
        try:
            data = yaml.load(path.read_text(encoding="utf-8"), Loader=_Loader) or {}  # noqa: S506 - a safe loader
        except (yaml.YAMLError, UnicodeDecodeError) as exc:
            line = getattr(getattr(exc, "problem_mark", None), "line", None)
            raise RecordError(f"not valid YAML: {exc}".splitlines()[0], file=str(path),
                              line=line + 1 if line is not None else None) from None
        items = data.get("entities", []) if isinstance(data, dict) else None
        if not isinstance(items, list):
            raise RecordError("expected a mapping with an 'entities' list", file=str(path))
        auth = cls()
        for item in items:
            entity = Entity.from_dict(item, file=str(path))
            if entity.id in auth.entities:
                raise RecordError("duplicate entity id", file=str(path), record=entity.id, field="id")
            auth._add(entity)
        return auth

    def save(self, path: Path | str) -> None:
        """Write authority.yaml in a stable order (kind, then id) so diffs stay small."""
        ordered = sorted(self.entities.values(), key=lambda e: (KINDS.index(e.kind), e.id))
        text = yaml.safe_dump({"entities": [e.to_dict() for e in ordered]}, allow_unicode=True,
                              sort_keys=False, width=100)
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(str(path) + ".tmp")
        tmp.write_text(HEADER + text, encoding="utf-8")
        tmp.replace(path)

    # --- lookup --------------------------------------------------------------------------
    def _add(self, e: Entity) -> None:
        self.entities[e.id] = e
        self._matcher = None
        for n in e.names():
            ids = self._by_key.setdefault(names.key(n), [])
            if e.id not in ids:
                ids.append(e.id)
        if e.kind == "person":
            self._index_surnames(e)

    def _index_surnames(self, e: Entity) -> None:
        """Index persons by surname with the initials each spelling gives ("P. F. Yudin" -> p f)."""
        surnames: dict[str, list[list[str]]] = {}
        for n in e.names():
            split = names.split_initials(n)
            if split:
                surnames.setdefault(split[1], []).append(split[0])
        for n in e.names():   # full forms "Pavel Yudin": first letters of the given names
            toks = names.key(n).split()
            if len(toks) >= 2 and toks[-1] in surnames:
                surnames[toks[-1]].append([t[0] for t in toks[:-1]])
            if len(toks) == 1 and names.key(n).isalpha():
                surnames.setdefault(toks[0], []).append([])
        for s, inits in surnames.items():
            self._by_surname.setdefault(s, []).append((e.id, inits))

    def _pick(self, ids: list[str], kind: str | None) -> Entity | None:
        found = [self.entities[i] for i in ids if kind is None or self.entities[i].kind == kind]
        return found[0] if len(found) == 1 else None

    def resolve(self, name: str, kind: str | None = None) -> Entity | None:
        """The entity a name refers to, or None when unknown or ambiguous.

        Handles case and spacing, inverted forms ("Liu, Shaoqi"), titles ("Cde.", "Ambassador"),
        initials ("P. F. Yudin", "P.F. Yudin", "P. Yudin", "V. Vas'kov" ~ "V. V. Vas'kov") and
        bare surnames when only one person has it ("Cde. Fedorenko").
        """
        if not name or not name.strip():
            return None
        candidates = [name]
        parsed = names.parse_name(name, kind or names.guess_kind(name))
        candidates += [parsed.label, *parsed.variants]
        for c in candidates:
            hit = self._pick(self._by_key.get(names.key(c), []), kind)
            if hit:
                return hit
        if kind not in (None, "person"):
            return None
        bare = names.strip_titles(parsed.label)
        hit = self._pick(self._by_key.get(names.key(bare), []), "person")
        if hit:
            return hit
        split = names.split_initials(bare)
        toks = names.key(bare).split()
        query, surname = split if split else ([], toks[-1]) if len(toks) == 1 else (None, "")
        if query is None:
            return None
        matches = [i for i, seqs in self._by_surname.get(surname, [])
                   if not query or any(_compatible(query, s) for s in seqs)]
        return self.entities[matches[0]] if len(set(matches)) == 1 else None

    def add_unknown(self, name: str, kind: str, context: str = "") -> Entity:
        """Create an entry (no QID) for a name the authority does not know; return the existing one if it does."""
        if kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}")
        found = self.resolve(name, kind)
        if found:
            return found
        parsed = names.parse_name(name, kind, context)
        base = slugify(parsed.label)
        ident, n = base, 2
        while ident in self.entities:
            ident, n = f"{base}-{n}", n + 1
        entity = Entity(id=ident, label=parsed.label, kind=kind,
                        variants=[v for v in parsed.variants if v != parsed.label],
                        evidence="added by lod import from a source record; no Wikidata link yet")
        self._add(entity)
        return entity

    def find_mentions(self, text: str) -> list[tuple[Entity, int, int]]:
        """Entities named in running text, as (entity, start, end) spans, longest match first."""
        if self._matcher is None:
            self._matcher = Matcher({e.id: _text_forms(e) for e in self.entities.values()})
        return [(self.entities[i], s, t) for i, s, t in self._matcher.find(text)]

    def no_qid(self) -> list[Entity]:
        return [e for e in self.entities.values() if e.published_qid() is None]


def _compatible(query: list[str], known: list[str]) -> bool:
    n = min(len(query), len(known))
    return query[:n] == known[:n] and n > 0 or not known


def _text_forms(e: Entity) -> list[str]:
    """Spellings to look for in body text: every variant, initialled forms, folded diacritics."""
    forms: list[str] = []
    for n in e.names():
        if e.kind == "person" and "," in n:
            continue   # inverted catalogue forms do not occur in running text
        forms.append(n)
        forms += names.initial_forms(n)
    forms += [names.fold(f) for f in forms]
    return list(dict.fromkeys(f for f in forms if len(f.strip()) >= 2))


# --- building the authority from the bundled evidence ------------------------------------
def import_sources(authority: Authority, evidence_csv: Path, variants_md: Path) -> list[str]:
    """Merge wikidata-evidence.csv (QIDs with confidence + evidence) and name-variants.md.

    Returns notes on what changed. Reviewed entities keep their QID: a reviewer's word wins.
    """
    notes: list[str] = []
    with open(evidence_csv, encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            kind = row["kind"].strip()
            if kind not in KINDS:
                notes.append(f"skipped {row['name']!r}: kind {kind!r} is not an entity kind")
                continue
            e = authority.resolve(row["name"], kind) or authority.add_unknown(row["name"], kind)
            if e.review:
                continue
            e.wikidata, e.confidence = row["wikidata"].strip(), row["confidence"].strip()
            e.evidence = f"{row['evidence'].strip()} (wikidata-evidence.csv)"
            notes.append(f"{e.label}: {e.wikidata} ({e.confidence})")
    text = Path(variants_md).read_text(encoding="utf-8")
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) != 2 or cells[0] in ("Person", "") or set(cells[0]) <= set("-: "):
            continue
        label, kind = cells[0], "person"
        m = re.match(r"^(.*?)\s*\((place|organi[sz]ation|person)\)$", label)
        if m:
            label, kind = m.group(1), m.group(2).replace("organisation", "organization")
        elif label.isupper():
            kind = "organization"
        e = authority.resolve(label, kind) or authority.add_unknown(label, kind)
        for item in re.split(r";|\s/\s", cells[1]):
            _merge_variant(authority, e, item.strip())
    m = re.search(r"No Wikidata QID was found with evidence for:(.+?)\.\s", text, re.S)
    for name in re.split(r",\s*", m.group(1)) if m else []:
        name = re.sub(r"^the\s+", "", " ".join(name.split()))
        e = authority.resolve(name) or authority.resolve(re.sub(r".*\((\w+)\)$", r"\1", name))
        if e and not e.wikidata:
            e.evidence = "no QID found with evidence (name-variants.md): link with the reconciler and review"
    return notes


def _merge_variant(authority: Authority, e: Entity, item: str) -> None:
    item = item.strip()
    dates = re.search(r"\((\d{4}(?:-\d\d-\d\d)?)\s*[–-]\s*(\d{4}(?:-\d\d-\d\d)?)\)", item)
    if dates:
        e.birth, e.death = e.birth or dates.group(1), e.death or dates.group(2)
        item = item[:dates.start()].strip()
    item = re.sub(r"\s*\((?!\d)[^)]*\)$", "", item)            # "(digital archive inverted form)"
    born = re.match(r"^born\s+(.+)$", item)
    if born:
        item = born.group(1)
        e.description = e.description or f"born {item}"
    item = item.strip().strip("\"“”")
    if item and item not in e.names():
        e.variants.append(item)
        authority._add(e)
