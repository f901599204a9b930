"""The digital archive's CSV export, one Record per row (column mapping: docs/sources.md).

Every column is used: document fields go into the Record, the scrape's own columns
(page_number, page_number_one_indexed, page_position, scraped_at) into the record file's
``_import`` provenance, since they describe the scrape, not the document. A bad row is
reported with file, line, record and column, and every other row still imports.
"""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lod import dates
from lod.records import Conversation, Record, RecordError
from lod.sources import citations
from lod.sources.pages import doc_type
from lod.sources.textfile import read_text
from lod.uris import slugify

# column -> where it goes (docs/sources.md repeats this table)
COLUMNS = {
    "document_url": "source_url; its last path segment is the slug",
    "page_number": "provenance (_import.listing_page, zero-based)",
    "page_number_one_indexed": "provenance (_import.listing_page)",
    "page_position": "provenance (_import.position)",
    "original_publication_date": "date (at its real precision)",
    "title": "title; document type; a conversation's date when the title names one",
    "credits": "credits; funders",
    "text_body": "body",
    "summary": "summary",
    "authors": "authors (JSON array: people and organisations)",
    "associated_places": "places (JSON array)",
    "subjects_discussed": "subjects (JSON array)",
    "associated_people_orgs": "people (JSON array)",
    "document_contributors": "contributors (JSON array); conversation participants for conversations",
    "source": "citation.text + parts; contributed/transcribed/translated/obtained by",
    "original_upload_date": "upload_date",
    "original_archive_title": "citation.archive (+ abbreviation)",
    "language": "original_language (JSON array)",
    "rights": "rights",
    "record_id": "record_id and key",
    "original_classification": "classification",
    "donors": "funders (JSON array)",
    "scraped_at": "provenance (_import.scraped_at)",
}
REQUIRED = ("title", "text_body")        # plus record_id or document_url, to key the record
JSON_ARRAYS = ("authors", "associated_places", "subjects_discussed", "associated_people_orgs",
               "document_contributors", "original_archive_title", "language", "donors")
FIELD_SIZE_LIMIT = 64 * 1024 * 1024      # a body is far smaller; a runaway quote is not silently eaten


@dataclass
class Imported:
    record: Record
    provenance: dict[str, Any]


@dataclass
class CsvResult:
    rows: list[Imported] = field(default_factory=list)
    errors: list[RecordError] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def read_csv(path: Path) -> CsvResult:
    try:
        text = read_text(path)
    except RecordError as exc:
        return CsvResult(errors=[exc])
    return parse_csv(text, file=str(path))


def parse_csv(text: str, *, file: str) -> CsvResult:
    out = CsvResult()
    csv.field_size_limit(max(csv.field_size_limit(), FIELD_SIZE_LIMIT))
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = [h.strip() for h in next(reader)]
    except (StopIteration, csv.Error) as exc:
        out.errors.append(RecordError(f"no CSV header: {exc}", file=file, line=1))
        return out
    missing = [c for c in REQUIRED if c not in header]
    if "record_id" not in header and "document_url" not in header:
        missing.append("record_id")
    if missing:
        out.errors.append(RecordError(f"missing required column(s) {', '.join(missing)}; no row imported",
                                      file=file, line=1, field=missing[0]))
        return out
    for c in header:
        if c not in COLUMNS:
            out.warnings.append(f"{file}:1: unknown column {c!r} ignored")
    for c in COLUMNS:
        if c not in header:
            out.warnings.append(f"{file}:1: column {c!r} missing; its field stays empty")
    if len(set(header)) != len(header):
        dup = sorted({c for c in header if header.count(c) > 1})
        out.errors.append(RecordError(f"duplicate column(s) {dup}; no row imported", file=file, line=1,
                                      field=dup[0]))
        return out
    seen: dict[str, int] = {}
    while True:
        line = reader.line_num + 1
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            out.errors.append(RecordError(f"malformed CSV: {exc}; the rest of the file is not read",
                                          file=file, line=line))
            break
        if not any(c.strip() for c in cells):
            continue
        try:
            if len(cells) != len(header):
                raise RecordError(f"row has {len(cells)} cells, the header has {len(header)}",
                                  file=file, line=line, record=_guess_key(header, cells))
            row = dict(zip(header, cells, strict=True))
            imported = _row(row, file=file, line=line)
        except RecordError as exc:
            out.errors.append(exc)
            continue
        key = imported.record.key
        if key in seen:
            out.errors.append(RecordError(f"duplicate record ID: also on line {seen[key]}; this row is skipped",
                                          file=file, line=line, record=key, field="record_id"))
            continue
        seen[key] = line
        out.rows.append(imported)
    return out


def _guess_key(header: list[str], cells: list[str]) -> str | None:
    """Name a malformed row by its record ID, else by its URL's slug, if those cells survived."""
    cell = dict(zip(header, cells, strict=False))
    if cell.get("record_id", "").strip():
        return cell["record_id"].strip()
    url = cell.get("document_url", "").strip().rstrip("/")
    return slugify(url.rsplit("/", 1)[-1]) if url else None


def _row(row: dict[str, str], *, file: str, line: int) -> Imported:
    def get(col: str) -> str:
        return (row.get(col) or "").strip()

    url = get("document_url")
    slug = slugify(url.rstrip("/").rsplit("/", 1)[-1]) if url else ""
    rid = get("record_id")
    key = rid or slug
    where = {"file": file, "line": line, "record": key or None}
    if not key:
        raise RecordError("no record_id and no document_url: the record has no key", field="record_id", **where)
    if rid and not re.fullmatch(r"[A-Za-z0-9][\w.-]*", rid):
        raise RecordError(f"record_id {rid!r} is not a plain identifier", field="record_id", **where)
    if url and not re.match(r"^https?://\S+$", url):
        raise RecordError(f"document_url {url!r} is not an http(s) URL", field="document_url", **where)

    def array(col: str) -> list[str]:
        raw = get(col)
        if not raw:
            return []
        try:
            value = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise RecordError(f"invalid JSON array: {exc.msg} at character {exc.pos} in {raw[:60]!r}",
                              field=col, **where) from None
        except RecursionError:
            raise RecordError(f"invalid JSON array: nested too deeply in {raw[:60]!r}", field=col, **where) from None
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise RecordError(f"expected a JSON array of text, got {raw[:60]!r}", field=col, **where)
        return [" ".join(v.split()) for v in value if v.strip()]

    def date(col: str) -> str:
        raw = get(col)
        if not raw:
            return ""
        try:
            return dates.parse(raw)
        except dates.DateError as exc:
            raise RecordError(str(exc), field=col, **where) from None

    rec = Record(key=key, record_id=rid, slug=slug, source_url=url, title=" ".join(get("title").split()))
    rec.date = date("original_publication_date")
    rec.upload_date = date("original_upload_date")
    rec.credits, rec.summary, rec.rights = get("credits"), get("summary"), get("rights")
    rec.body = "\n".join(line.rstrip() for line in get("text_body").split("\n"))  # keeps YAML block style
    rec.classification = get("original_classification")
    rec.authors, rec.places = array("authors"), array("associated_places")
    rec.subjects, rec.people = array("subjects_discussed"), array("associated_people_orgs")
    rec.contributors, rec.original_language = array("document_contributors"), array("language")
    rec.funders = array("donors")
    m = re.search(r"(?:support|funding|grant) from\s+(?:the\s+)?(.+?)\.?$", rec.credits, re.I)
    if m and m.group(1).strip() not in rec.funders:
        rec.funders.append(m.group(1).strip())
    archives = array("original_archive_title")
    ref, credit = citations.split_credits(get("source"))
    rec.citation = citations.parse_reference(ref, archives[0] if archives else "")
    if len(archives) > 1:
        rec.citation.file = "; ".join(filter(None, [rec.citation.file, *archives[1:]]))
    roles = citations.parse_credits(credit)
    rec.obtained_by, rec.contributed_by = roles["obtained"], roles["contributed"]
    rec.transcribed_by, rec.translated_by = roles["transcribed"], roles["translated"]
    if rec.translated_by:
        rec.translation_language = "English"     # the export's text_body is the English translation
    rec.doc_type = doc_type(rec.title)
    _conversation(rec, where)
    for err in rec.check():
        raise RecordError(err.message, field=err.field, **where)
    prov = {"source": Path(file).name, "line": line}
    for col, name in (("page_number_one_indexed", "listing_page"), ("page_position", "position"),
                      ("scraped_at", "scraped_at")):
        if get(col):
            prov[name] = get(col)
    if not get("page_number_one_indexed") and re.fullmatch(r"\d+", get("page_number")):
        prov["listing_page"] = str(int(get("page_number")) + 1)
    return Imported(rec, prov)


def _conversation(rec: Record, where: dict[str, Any]) -> None:
    """A title naming a conversation or meeting "... on 20 October 1997 ... in Chequers" gives its date/place."""
    m = re.search(r"\b(?i:conversation|meeting|talks?)\s+with\b.*?\bon\s+(?:[A-Z][a-z]+day,\s+)?"
                  r"(\d{1,2}\s+[A-Z][a-z]+\s+\d{4})", rec.title)
    if not m:
        return
    try:
        when = dates.parse(m.group(1))
    except dates.DateError as exc:
        raise RecordError(str(exc), field="title", **where) from None
    place = re.search(r"\bin\s+([A-Z][\w-]+(?:\s+[A-Z][\w-]+)?)\s*$", rec.title)
    rec.conversation = Conversation(date=when, participants=list(rec.contributors),
                                    place=place.group(1) if place else "")
