"""The Record: one archival document with every fact a historian would cite.

Sources (pages, CSV export) produce Records; curated record files are Records serialised as
YAML; mapping turns a Record into CIDOC-CRM and Dublin Core triples. People, places and
organisations are kept as the names the source writes ("Cde. D.T. Shepilov", "Liu, Shaoqi");
the authority resolves them to entities at mapping time, so a curator edits names, not IRIs.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import reprlib
from dataclasses import dataclass, field
from typing import Any, get_args, get_origin, get_type_hints

from lod import dates


class RecordError(ValueError):
    """A record that cannot be used, located by file, record and field."""

    def __init__(self, message: str, *, file: str | None = None, record: str | None = None,
                 field: str | None = None, line: int | None = None) -> None:
        self.message = message
        self.file = file
        self.record = record
        self.field = field
        self.line = line
        super().__init__(self.located())

    def located(self) -> str:
        where = []
        if self.file:
            where.append(self.file + (f":{self.line}" if self.line else ""))
        if self.record:
            where.append(f"record {self.record}")
        if self.field:
            where.append(f"field {self.field}")
        return (", ".join(where) + ": " if where else "") + self.message


@dataclass
class Citation:
    """An archival citation, raw and parsed: 'AVPRF f. 0100, op. 47, papka 379, delo 7'."""

    text: str = ""
    archive: str = ""            # "Archive of Foreign Policy of the Russian Federation (AVPRF)"
    archive_abbrev: str = ""     # "AVPRF"
    fond: str = ""
    opis: str = ""
    papka: str = ""
    delo: str = ""
    list: str = ""               # l. / listy (sheets), e.g. "202-03"
    pages: str = ""              # p. / pp., e.g. "410" or "36-40"
    year: str = ""               # a year inside the citation ("1956")
    file: str = ""               # other archives' file designation ("File No. JNSG, vol. 21-1")


@dataclass
class Conversation:
    """The conversation (or meeting) the document records."""

    date: str = ""               # ISO, any precision
    participants: list[str] = field(default_factory=list)   # the other party ("Liu Shaoqi")
    present: list[str] = field(default_factory=list)        # others present ("V. V. Vas'kov")
    place: str = ""
    description: str = ""        # "with LIU SHAOQI, CCP CC Secretary and ZHOU ENLAI, ..."


@dataclass
class Record:
    key: str                                  # URI key: record ID if any, else the archive's slug
    title: str = ""
    record_id: str = ""                       # the digital archive's record ID ("116814")
    slug: str = ""                            # the digital archive's slug
    source_url: str = ""
    doc_type: str = ""                        # project vocabulary term: diary-entry, memorandum-of-conversation, letter, ...
    date: str = ""                            # the document's (page) date, ISO any precision
    entry_date: str = ""                      # journal/diary entry date ("23 February 1954")
    entry_number: str = ""                    # journal/diary entry number ("144", "865")
    authors: list[str] = field(default_factory=list)
    classification: str = ""                  # "TOP SECRET", "Secret"
    copy_number: str = ""                     # "1"
    incoming_numbers: list[str] = field(default_factory=list)  # registry stamps ("066ss", "0115-vk")
    outgoing_number: str = ""                 # "Nº 215", "No. 1452"
    addressees: list[str] = field(default_factory=list)        # "To Cde. D.T. Shepilov"
    copies_sent: list[str] = field(default_factory=list)       # "1- to Cde. V. M. Molotov", "2- to file"
    conversation: Conversation | None = None
    drafted_by: list[str] = field(default_factory=list)
    typed_by: list[str] = field(default_factory=list)
    filed_by: list[str] = field(default_factory=list)
    filed_date: str = ""
    citation: Citation = field(default_factory=Citation)
    obtained_by: list[str] = field(default_factory=list)
    translated_by: list[str] = field(default_factory=list)
    contributed_by: list[str] = field(default_factory=list)    # CSV "Contributed by ..."
    transcribed_by: list[str] = field(default_factory=list)
    summary: str = ""
    credits: str = ""
    funders: list[str] = field(default_factory=list)           # "Leon Levy Foundation"
    original_language: list[str] = field(default_factory=list) # ["Russian"]
    translation_language: str = ""                            # "English" (Contents: Translation - English)
    rights: str = ""
    body: str = ""
    people: list[str] = field(default_factory=list)            # people/orgs associated (CSV associated_people_orgs)
    contributors: list[str] = field(default_factory=list)      # CSV document_contributors
    places: list[str] = field(default_factory=list)
    subjects: list[str] = field(default_factory=list)
    upload_date: str = ""
    withdrawn: bool = False                   # a curator withdrew it: published as an OAI deleted record

    # --- serialisation -------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """Plain data, empty values dropped, for YAML record files."""
        return _prune(dataclasses.asdict(self))

    @classmethod
    def from_dict(cls, data: Any, *, file: str | None = None) -> Record:
        """Build a Record from plain data, checking every field's type; RecordError says where."""
        if not isinstance(data, dict):
            raise RecordError(f"a record must be a mapping, not {type(data).__name__}", file=file)
        key = data.get("key")
        if not isinstance(key, str | int) or not str(key).strip():
            raise RecordError("missing 'key'", file=file, field="key")
        return _build(cls, data, file=file, record=str(key), prefix="")

    def checksum(self) -> str:
        """Stable content hash of the record (its canonical JSON)."""
        blob = json.dumps(self.to_dict(), sort_keys=True, ensure_ascii=False).encode()
        return hashlib.sha256(blob).hexdigest()

    def check(self) -> list[RecordError]:
        """Semantic checks beyond types: required title, valid dates."""
        errors = []
        if not self.title.strip():
            errors.append(RecordError("missing title", record=self.key, field="title"))
        for name, value in (("date", self.date), ("entry_date", self.entry_date),
                            ("filed_date", self.filed_date), ("upload_date", self.upload_date),
                            ("conversation.date", self.conversation.date if self.conversation else "")):
            if value:
                try:
                    dates.normalise(value)
                except dates.DateError as exc:
                    errors.append(RecordError(str(exc), record=self.key, field=name))
        return errors


def _prune(value: Any) -> Any:
    if isinstance(value, dict):
        out = {k: _prune(v) for k, v in value.items()}
        return {k: v for k, v in out.items() if v not in ("", [], {}, None, False) or k == "key"}
    if isinstance(value, list):
        return [_prune(v) for v in value]
    return value


@functools.cache
def _type_hints(cls: type) -> dict[str, Any]:
    """get_type_hints evaluates string annotations on every call; once per class is enough."""
    return get_type_hints(cls)


@functools.cache
def _field_names(cls: type) -> frozenset[str]:
    return frozenset(f.name for f in dataclasses.fields(cls))


def _build(cls: type, data: dict[str, Any], *, file: str | None, record: str, prefix: str) -> Any:
    hints = _type_hints(cls)
    unknown = sorted(set(data) - _field_names(cls))
    if unknown:
        raise RecordError(f"unknown field(s): {', '.join(unknown)}", file=file, record=record,
                          field=prefix + unknown[0])
    kwargs: dict[str, Any] = {}
    for name, value in data.items():
        kwargs[name] = _coerce(hints[name], value, file=file, record=record, field=prefix + name)
    return cls(**kwargs)


@functools.cache
def _shape(hint: Any) -> tuple[bool, Any, Any]:
    """(optional, the hint without None, the item hint of a list or None): typing's introspection is
    slow, and every value of every record asks it (~46 per record: ~4.6 million times at 100,000 records)."""
    args = get_args(hint)
    optional = get_origin(hint) is not None and type(None) in args
    if optional:
        hint = next(a for a in args if a is not type(None))
    return optional, hint, get_args(hint)[0] if get_origin(hint) is list else None


def _coerce(hint: Any, value: Any, *, file: str | None, record: str, field: str) -> Any:
    def fail(expected: str) -> RecordError:
        # reprlib: bounded in depth and length (a YAML alias bomb must not be repr'd whole)
        return RecordError(f"expected {expected}, got {type(value).__name__} {reprlib.repr(value):.60}",
                           file=file, record=record, field=field)

    optional, hint, item = _shape(hint)
    if optional and value is None:
        return None
    if hint is str:
        if value.__class__ is str:
            return value
        if isinstance(value, bool) or not isinstance(value, str | int):
            raise fail("text")
        return str(value)
    if hint is bool:
        if not isinstance(value, bool):
            raise fail("true or false")
        return value
    if item is not None:
        if not isinstance(value, list):
            raise fail("a list")
        return [_coerce(item, v, file=file, record=record, field=f"{field}[{i}]")
                for i, v in enumerate(value)]
    if dataclasses.is_dataclass(hint):
        if not isinstance(value, dict):
            raise fail("a mapping")
        return _build(hint, value, file=file, record=record, prefix=field + ".")
    raise fail(str(hint))
