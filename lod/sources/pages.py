"""Document pages saved as text, in the digital archive's two layouts, read into Records.

Layout A ("journal" pages): page date, title, stamps, body, trailer, then a "Document
Information" section (archival citation + credits, rights, type). Layout B ("diary" pages):
page date, title, then "Citation:", "Summary:", "Credits:", "Original Language:", "Contents:"
headings, then the document itself. Both are read by structure (headings and line patterns),
never by line numbers. Every problem is a RecordError naming the file, record and field.

Key rule: the record ID when the page has one (layout B's URL ``.../document/116814``), else the
page's slug, which is its file name stem (``journal-ambassador-...-13-february.txt``) made
URI-safe; the archive saves pages under their slug, so the stem is stable across rebuilds.
"""

from __future__ import annotations

import re
from pathlib import Path

from lod import dates
from lod.records import Conversation, Record, RecordError
from lod.sources import citations
from lod.sources.textfile import read_text
from lod.uris import slugify

DOC_TYPES = [  # (pattern in the title, vocabulary term), first match wins; docs/sources.md
    (r"memorandum of (?:a )?conversation", "memorandum-of-conversation"),
    (r"record of (?:a )?conversation|minutes of (?:a )?conversation", "record-of-conversation"),
    (r"\bconversation\b|\bmeeting with\b|\btalks with\b", "record-of-conversation"),
    (r"\bjournal\b", "journal-entry"),
    (r"\bdiary\b|\bdiary entry\b", "diary-entry"),
    (r"^letter\b|\bletter\b", "letter"),
    (r"\btelegram\b|\bcable\b", "telegram"),
    (r"\bpetition\b", "petition"),
    (r"\bstatement\b", "statement"),
    (r"\bmemorandum\b", "memorandum"),
    (r"\breport\b", "report"),
]
B_HEADINGS = ("Citation:", "Summary:", "Credits:", "Original Language:", "Contents:")
_DATE = r"\d{1,2}\s+[A-Z][a-z]+\.?\s+\d{4}"
_NO = r"(?:N[ºo°]|No)\.?:?"
_NAME = r"(?:[A-ZА-Я]\.\s?)+[A-ZА-Я][\w'’-]+"
_CLASSIFICATION = re.compile(r"^(top secret|strictly secret|secret|confidential|restricted)\b[.,]?", re.I)
_COPY = re.compile(rf"\bcopy\s*{_NO}\s*(\d+)", re.I)
_INCOMING = re.compile(rf"incoming\s*{_NO}\]?\s*(\S+)", re.I)
_HEADING = re.compile(r"^(?:with\s+\S|(?:memorandum|record|minutes) of (?:a )?conversation\b)", re.I)
_TRAILER = re.compile(
    rf"^(?:/signature/|\d+\s+copies sent|printed backwards|To\s+Cde\.|Filed by|Drafted by|Typed by"
    rf"|\(?{_NAME}\)?$|[A-Z][A-Z.]+(?:\s+[A-Z][A-Z.]+)+$|{_NO}\s*\d+$)")


MAX_PAGE_BYTES = 16 * 1024 * 1024   # one document page; the real ones are tens of KB (docs/security.md)


def read_page(path: Path) -> Record:
    """Read one page file; RecordError for unreadable, empty, binary, non-UTF-8, oversized or truncated pages."""
    try:
        size = path.stat().st_size if path.is_file() else 0    # unreadable: read_text says why
        if size > MAX_PAGE_BYTES:
            raise RecordError(f"file is {size / 1e6:.1f} MB, larger than the {MAX_PAGE_BYTES // 2**20} MB limit "
                              "for one document page: not imported", file=str(path))
        text = read_text(path)
    except RecordError as exc:   # the file is the record: name it by its slug
        raise RecordError(exc.message, file=exc.file, line=exc.line, record=page_key(path.stem),
                          field="text") from None
    return parse_page(text, file=str(path), stem=path.stem)


def page_key(stem: str) -> str:
    return slugify(stem)


def parse_page(text: str, *, file: str, stem: str) -> Record:
    lines = [(i + 1, " ".join(raw.replace("\xa0", " ").split())) for i, raw in enumerate(text.split("\n"))]
    lines = [(n, t) for n, t in lines if t]
    if lines and lines[0][1].lower() == "skip to content":
        lines = lines[1:]
    slug = page_key(stem)
    url = re.search(r"https?://\S+/document/(\d+)\b", text)
    rec = Record(key=url.group(1) if url else slug, slug=slug)
    if url:
        rec.record_id, rec.source_url = url.group(1), url.group(0).rstrip(".,)")

    def fail(message: str, field: str, line: int | None = None) -> RecordError:
        return RecordError(message, file=file, record=rec.key, field=field, line=line)

    if not lines:
        raise fail("empty page", "title")
    n, first = lines[0]
    try:
        rec.date = dates.parse(first)
    except dates.DateError as exc:
        raise fail(f"the page must start with its date: {exc}", "date", n) from None
    if len(lines) < 2 or not _looks_like_title(lines[1][1]):
        raise fail("missing title: the line after the page date is not a title", "title",
                   lines[1][0] if len(lines) > 1 else n)
    rec.title = lines[1][1]
    rest = lines[2:]
    if any(t == "Citation:" for _, t in rest):
        content = _layout_b(rec, rest, fail)
    else:
        content = _layout_a(rec, rest, fail)
    _content(rec, content, fail)
    _from_title(rec, fail)
    if rec.translated_by and not rec.translation_language:
        rec.translation_language = "English"    # the page is the English text its translator made
    for err in rec.check():
        raise fail(err.message, err.field or "")
    return rec


def _looks_like_title(line: str) -> bool:
    if line.startswith("[") or line in B_HEADINGS or line == "Document Information":
        return False
    try:
        dates.parse(line)
        return False
    except dates.DateError:
        pass
    return len(line.split()) >= 3 and bool(re.search(r"[^\W\d_]{3}", line))


def _sections(lines: list[tuple[int, str]], headings: tuple[str, ...]) -> dict[str, list[tuple[int, str]]]:
    out: dict[str, list[tuple[int, str]]] = {}
    current = None
    for n, t in lines:
        if t in headings:
            current = t
            out[current] = []
        elif current:
            out[current].append((n, t))
    return out


def _layout_b(rec: Record, lines: list[tuple[int, str]], fail) -> list[tuple[int, str]]:
    sec = _sections(lines, B_HEADINGS)
    cit_lines = sec.get("Citation:", [])
    raw = " ".join(t for _, t in cit_lines)
    line = cit_lines[0][0] if cit_lines else None
    if not raw or not (re.search(r"https?://\S+$", raw) or raw.endswith(".")):
        raise fail("citation is truncated (no closing URL or full stop)", "citation", line)
    raw = re.sub(r"\s*https?://\S+$", "", raw)
    raw = re.sub(r'^["“].*?["”],\s*', "", raw)                       # the quoted title
    raw = re.sub(r"^[A-Z][a-z]+\.? \d{1,2}, \d{4},\s*", "", raw)      # the date
    raw = re.sub(r"^[^,]*Digital Archive,\s*", "", raw)               # the portal's name
    _citation(rec, raw)
    rec.summary = "\n\n".join(t for _, t in sec.get("Summary:", []))
    _credits(rec, " ".join(t for _, t in sec.get("Credits:", [])))
    rec.original_language = [t for _, t in sec.get("Original Language:", [])[:1]]
    contents = sec.get("Contents:")
    if not contents:
        raise fail("page is truncated: no 'Contents:' section and no document text", "body",
                   lines[-1][0])
    k = 0
    while k < len(contents) and re.match(r"^(?:translation|original|transcript(?:ion)?)\s*-\s*\S", contents[k][1], re.I):
        if contents[k][1].lower().startswith("translation"):
            rec.translation_language = contents[k][1].split("-", 1)[1].strip()
        k += 1
    return contents[k:]


def _layout_a(rec: Record, lines: list[tuple[int, str]], fail) -> list[tuple[int, str]]:
    idx = next((i for i, (_, t) in enumerate(lines) if t == "Document Information"), None)
    if idx is None:
        raise fail("page is truncated: no 'Document Information' section with the archival citation",
                   "citation", lines[-1][0] if lines else None)
    trailer = lines[idx + 1:]
    if not trailer or not trailer[0][1].endswith("."):
        raise fail("citation is truncated (it does not end with a full stop)", "citation",
                   trailer[0][0] if trailer else lines[idx][0])
    _citation(rec, trailer[0][1])
    headings = ("Original Uploaded Date", "Record ID", "Type")
    rights: list[str] = []
    k = 1
    while k < len(trailer) and trailer[k][1] not in headings:
        rights.append(trailer[k][1])
        k += 1
    rec.rights = "\n".join(rights)
    for j in range(k, len(trailer)):
        t = trailer[j][1]
        nxt = trailer[j + 1][1] if j + 1 < len(trailer) else ""
        if t == "Original Uploaded Date" and nxt and nxt not in headings:
            try:
                rec.upload_date = dates.parse(nxt)
            except dates.DateError:
                pass
        if t == "Record ID" and re.fullmatch(r"\d+", nxt):
            rec.record_id = rec.key = nxt
    if not rec.doc_type:
        rec.doc_type = doc_type(" ".join(t for _, t in trailer[k:] if t not in headings))
    content = lines[:idx]
    if content and len(content[-1][1].split()) >= 8 and not _TRAILER.match(content[-1][1]):
        rec.summary = content[-1][1]
        content = content[:-1]
    return content


def _citation(rec: Record, text: str) -> None:
    ref, credit = citations.split_credits(text)
    pages = rec.citation.pages
    rec.citation = citations.parse_reference(ref)
    rec.citation.pages = rec.citation.pages or pages
    roles = citations.parse_credits(credit)
    rec.obtained_by, rec.translated_by = roles["obtained"], roles["translated"]
    rec.contributed_by, rec.transcribed_by = roles["contributed"], roles["transcribed"]


def _credits(rec: Record, text: str) -> None:
    rec.credits = text
    m = re.search(r"(?:support|funding|grant) from\s+(?:the\s+)?(.+?)\.?$", text, re.I)
    if m:
        rec.funders = [m.group(1).strip()]


def _content(rec: Record, lines: list[tuple[int, str]], fail) -> None:
    """Stamps and headings, then the body, then the signature block."""
    k, conv = 0, Conversation()
    while k < len(lines):
        n, t = lines[k]
        if _HEADING.match(t):
            conv.description = t
            m = re.search(rf"\b(?:of|on)\s+({_DATE})$", t)
            if m:
                conv.date = _date(m.group(1), "conversation.date", n, fail)
            elif k + 1 < len(lines) and _is_date(lines[k + 1][1]):
                k += 1
                conv.date = _date(lines[k][1], "conversation.date", lines[k][0], fail)
            k += 1
            break
        if len(t.split()) > 14 and not t.startswith("["):
            break                                   # prose: the body starts without a heading
        _stamp(rec, t, n, fail)
        if _is_date(t):
            rec.entry_date = rec.entry_date or _date(t, "entry_date", n, fail)
        k += 1
    body: list[str] = []
    while k < len(lines) and not _TRAILER.match(lines[k][1]):
        body.append(lines[k][1])
        k += 1
    if not body:
        raise fail("no document text found (page truncated?)", "body", lines[-1][0] if lines else None)
    if k >= len(lines) and not re.search(r"[.!?\"”’)\]]$", body[-1]):
        raise fail("page is truncated: the document text ends mid-sentence", "body", lines[-1][0])
    rec.body = "\n\n".join(body)
    _trailer(rec, "\n".join(t for _, t in lines[k:]), lines[k][0] if k < len(lines) else None, fail)
    for who in _present(rec.body):
        for part in re.split(r",\s*|\s+and\s+", who):
            found = re.findall(_NAME, part)
            name = found[-1] if found else " ".join(w for w in part.split() if w[:1].isupper()
                                                    and w.lower() not in _ROLE_WORDS)
            if name:
                conv.present.append(name)
    if conv.description or conv.date or conv.present:
        rec.conversation = conv


_ROLE_WORDS = {"soviet", "embassy", "counselor", "counsellor", "secretary", "second", "first", "ambassador",
               "comrade", "cde.", "ussr", "prc", "chinese", "interpreter", "translator"}


def _present(body: str) -> list[str]:
    """Who "was/were present": the subject of that sentence (initials' full stops are not sentence ends)."""
    out = []
    for para in body.split("\n\n"):
        for sentence in re.split(r"(?<=[a-z0-9\]\)”\"])[.!?]\s+", para):
            m = re.match(r"^(.+?)\s+(?:was|were)\s+(?:also\s+)?present\b", sentence)
            if m:
                out.append(m.group(1))
    return out


def _stamp(rec: Record, t: str, n: int, fail) -> None:
    m = _CLASSIFICATION.match(t)
    if m:
        rec.classification = m.group(1).upper()
        d = re.search(rf"({_DATE})$", t)
        if d:
            rec.entry_date = _date(d.group(1), "entry_date", n, fail)
    m = _COPY.search(t)
    if m:
        rec.copy_number = m.group(1)
    m = _INCOMING.search(t)
    if m:
        rec.incoming_numbers.append(m.group(1))
    m = re.match(r"^\[?pp?\.\]?\s*(\d+\s*[-–]\s*\d+|\d+)$", t)
    if m:
        rec.citation.pages = m.group(1)
    m = re.match(rf"^from the (?:journal|diary) of\s*(.*?)\s*(?:{_NO}\s*(\d+))?$", t, re.I)
    if m:
        if m.group(1) and not rec.authors:
            rec.authors = [m.group(1)]
        if m.group(2):
            rec.entry_number = m.group(2)
    m = re.match(rf"^{_NO}\s*(\d+)$", t)
    if m:
        rec.entry_number = m.group(1)


def _trailer(rec: Record, text: str, line: int | None, fail) -> None:
    for m in re.finditer(r"\bTo\s+(Cde\.\s*.+?)(?=\s+To\s+Cde\.|\s+(?:Filed|Drafted|Typed) by|\n|$)", text):
        rec.addressees.append(m.group(1).strip())
    for m in re.finditer(r"^(\d+)\s*-\s*to\s+(.+)$", text, re.M):
        rec.copies_sent.append(m.group(2).strip())
    for role, attr in (("Drafted", "drafted_by"), ("Typed", "typed_by")):
        for m in re.finditer(rf"\b{role} by\s+(.+?)$", text, re.M):
            getattr(rec, attr).append(m.group(1).strip())
    m = re.search(rf"\bFiled by\s+(.+?)(?:\s+({_DATE}))?(?:\s+{_NO}\s*(\d+))?\s*$", text, re.M)
    if m:
        rec.filed_by.append(m.group(1).strip())
        if m.group(2):
            rec.filed_date = _date(m.group(2), "filed_date", line, fail)
        if m.group(3):
            rec.outgoing_number = m.group(3)
    m = re.search(rf"^{_NO}\s*(\d+)\s*$", text, re.M)
    if m and not rec.outgoing_number:
        rec.outgoing_number = m.group(1)
    sig = re.search(rf"/signature/\s*\(?({_NAME})\)?", text) or re.search(rf"^\(?({_NAME})\)?$", text, re.M)
    if sig and not rec.authors:
        rec.authors = [sig.group(1)]


def _from_title(rec: Record, fail) -> None:
    t = rec.title
    m = re.search(r"(?:journal|diary) of (?:(?:soviet|ussr)\s+)?(?:ambassador\s+)?(.+?)(?::|,|$)", t, re.I)
    if m:
        rec.authors = [m.group(1).strip()]
    m = re.search(rf"conversation with (.+?)(?:\s+(?:of|on)\s+({_DATE}))?$", t, re.I)
    if m:
        conv = rec.conversation or Conversation()
        if not conv.participants:
            conv.participants = [p for p in re.split(r",\s*|\s+and\s+", m.group(1)) if p]
        if m.group(2) and not conv.date:
            conv.date = _date(m.group(2), "title", None, fail)
        rec.conversation = conv
    rec.doc_type = doc_type(t) or rec.doc_type


def doc_type(text: str) -> str:
    """The project vocabulary term for a document type named in a title (DOC_TYPES), or ""."""
    for pattern, term in DOC_TYPES:
        if re.search(pattern, text, re.I):
            return term
    return ""


def _is_date(t: str) -> bool:
    return bool(re.fullmatch(_DATE, t)) or bool(re.fullmatch(r"[A-Z][a-z]+\.? \d{1,2}, \d{4}", t))


def _date(text: str, field: str, line: int | None, fail) -> str:
    try:
        return dates.parse(text)
    except dates.DateError as exc:
        raise fail(str(exc), field, line) from None
