"""Where and when each authority entry appears in the records, and in which role.

Life dates are judged against these uses: a person who died before a document was written can be
referred to in it, but cannot have written it, received it or been present at its conversation.
Translators and archivists of today (obtained_by, translated_by...) are not dated by the document.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lod import dates
from lod.records import Record

# roles that need the person alive (and adult-ish) at the date
PRESENT_ROLES = ("author", "participant", "present", "addressee", "copy-recipient", "drafted-by",
                 "typed-by", "filed-by", "contributor")


@dataclass(frozen=True)
class Use:
    key: str            # record key
    role: str           # one of PRESENT_ROLES or "referred"
    date: str           # ISO text at source precision

    @property
    def needs_presence(self) -> bool:
        return self.role in PRESENT_ROLES

    @property
    def span(self) -> tuple[tuple[int, int, int], tuple[int, int, int]]:
        a, b = dates.span(self.date)
        return _tuple(a), _tuple(b)

    def describe(self) -> str:
        return f"{self.role} in {self.key} ({self.date})"


def _tuple(iso: str) -> tuple[int, int, int]:
    y, m, d = (int(p) for p in iso.split("-"))
    return (y, m, d)


def _valid(date: str) -> str:
    try:
        return dates.normalise(date) if date else ""
    except dates.DateError:
        return ""


def record_uses(record: Record) -> list[tuple[str, str, str]]:
    """(name, role, date) for every dated name in a record."""
    doc = _valid(record.date) or _valid(record.entry_date)
    conv = record.conversation
    conv_date = (_valid(conv.date) if conv else "") or doc
    out: list[tuple[str, str, str]] = []

    def add(names: Iterable[str], role: str, date: str) -> None:
        if date:
            out.extend((n, role, date) for n in names if n and n.strip())

    add(record.authors, "author", doc)
    add(record.addressees, "addressee", doc)
    add(record.copies_sent, "copy-recipient", doc)
    add(record.drafted_by, "drafted-by", doc)
    add(record.typed_by, "typed-by", doc)
    add(record.filed_by, "filed-by", _valid(record.filed_date) or doc)
    add(record.contributors, "contributor", doc)
    if conv:
        add(conv.participants, "participant", conv_date)
        add(conv.present, "present", conv_date)
        if conv.place:
            add([conv.place], "referred", conv_date)
    add(record.people, "referred", doc)
    add(record.places, "referred", doc)
    return out


def uses_from_records(records: Iterable[Record], authority: Any) -> dict[str, list[Use]]:
    """Entity id -> its dated uses, through the authority's name resolution and body-text mentions."""
    uses: dict[str, set[Use]] = {}
    for rec in records:
        for name, role, date in record_uses(rec):
            ent = authority.resolve(name)
            if ent is not None:
                uses.setdefault(ent.id, set()).add(Use(rec.key, role, date))
        doc = _valid(rec.date) or _valid(rec.entry_date)
        if doc and rec.body and hasattr(authority, "find_mentions"):
            for ent, _s, _e in authority.find_mentions(rec.body):
                uses.setdefault(ent.id, set()).add(Use(rec.key, "referred", doc))
    return {k: sorted(v, key=lambda u: (u.date, u.key, u.role)) for k, v in uses.items()}


def load_uses(data_dir: str | Path, authority: Any) -> tuple[dict[str, list[Use]], list[str]]:
    """Uses from <data>/records/*.yaml; problems are warnings (life-date checks then lack evidence)."""
    records_dir = Path(data_dir) / "records"
    try:
        from lod.sources.record_files import load_all
    except ImportError:
        return {}, ["record files cannot be read yet (lod.sources.record_files missing): "
                    "no document dates, so no life-date evidence and no auto-accept for people"]
    if not records_dir.is_dir():
        return {}, [f"{records_dir}: no records folder: no document dates for life-date checks"]
    loaded, errors = load_all(records_dir)
    warnings = [f"record not used for dates: {e}" for e in errors]
    return uses_from_records((r for _p, r in loaded), authority), warnings
