"""Archival citations and credit lines, shared by the page and CSV readers.

"Archive of Foreign Policy of the Russian Federation (AVPRF), f. 0100, op. 47, papka 379, delo 7"
becomes archive + abbreviation + fond/opis/papka/delo; "Obtained by Paul Wingrove and translated
by Gary Goldberg" becomes roles -> names. Parts we do not recognise are kept in ``file`` so
nothing a curator wrote is lost.
"""

from __future__ import annotations

import re

from lod.records import Citation

ROLES = ("obtained", "contributed", "transcribed", "translated")
_ROLE = r"(?:obtained|contributed|transcribed|translated)"
_CREDIT = re.compile(
    rf"(?P<roles>{_ROLE}(?:(?:,\s*|,?\s+and\s+){_ROLE})*)"
    rf"(?:\s+for\s+(?P<for>[^,]+?))?\s+by\s+(?P<names>.+?)"
    rf"(?=,?\s+and\s+{_ROLE}\b|\s*[.;]?\s*$)", re.I)
_CREDIT_START = re.compile(rf"(?:^|(?<=[.;]\s)|(?<=[.;]))\s*{_ROLE}\b", re.I)
_PARTS = [
    ("fond", re.compile(r"^(?:f\.|fond|fonds)\s*(\S.*)$", re.I)),
    ("opis", re.compile(r"^(?:op\.|opis'?)\s*(\S.*)$", re.I)),
    ("papka", re.compile(r"^(?:papka|pap\.|por\.)\s*(\S.*)$", re.I)),
    ("delo", re.compile(r"^(?:d\.|delo|dd\.)\s*(\S.*)$", re.I)),
    ("list", re.compile(r"^(?:ll?\.|list|listy)\s*(\S.*)$", re.I)),
    ("pages", re.compile(r"^(?:pp?\.|pages?)\s*(\S.*)$", re.I)),
]


def split_credits(text: str) -> tuple[str, str]:
    """Split "REF. Obtained by X and translated by Y." into (reference, credit sentence)."""
    m = _CREDIT_START.search(text)
    if not m or m.start() == 0 and not re.match(rf"\s*{_ROLE}\b.*\bby\b", text, re.I):
        return text.strip(), ""
    return text[:m.start()].strip().rstrip(".").strip(), text[m.start():].strip()


def parse_credits(sentence: str) -> dict[str, list[str]]:
    """{"obtained": [...], "translated": [...], ...} from a credit sentence; unknown text is ignored."""
    out: dict[str, list[str]] = {r: [] for r in ROLES}
    for m in _CREDIT.finditer(sentence.strip()):
        people = [p.strip(" .") for p in re.split(r",\s*(?:and\s+)?|\s+and\s+", m.group("names")) if p.strip(" .")]
        for role in re.findall(_ROLE, m.group("roles"), re.I):
            for p in people:
                if p not in out[role.lower()]:
                    out[role.lower()].append(p)
    return out


def parse_reference(ref: str, archive: str = "") -> Citation:
    """Parse an archival reference into archive and parts.

    ``archive`` is the archive's name when the source gives it separately (CSV column); the
    reference may repeat it in full or as its abbreviation ("BArch, B 136/59748, 403-410").
    """
    ref = " ".join(ref.split()).strip().rstrip(".")
    cit = Citation(text=ref)
    full, abbrev = _split_archive(archive)
    rest = ref
    # the archive named at the start of the reference: full name, "(ABBR)", or the abbreviation
    for candidate in filter(None, (archive, full, abbrev)):
        if rest.lower().startswith(candidate.lower()):
            rest = rest[len(candidate):]
            break
    else:
        m = re.match(r"^(.*?\(([^)]+)\))\s*,", rest) or re.match(r"^([A-ZА-Я][A-Za-zА-Яа-я]{1,9})(?=[\s,])", rest)
        if m and not _part_of(m.group(1)):
            named = m.group(1)
            f2, a2 = _split_archive(named)
            full, abbrev = full or f2, abbrev or a2
            rest = rest[len(named):]
    cit.archive = full or abbrev
    cit.archive_abbrev = abbrev
    leftovers: list[str] = []
    for part in (p.strip() for p in rest.strip(" ,").split(",")):
        if not part:
            continue
        name = _part_of(part)
        if name == "pages" and re.match(r"(?i)p\.\s*\d+$", part) and cit.fond and not cit.delo and not cit.papka:
            # Russian archival order f./op./p./d./l.: a lone "p." before the delo is the papka (folder)
            name = "papka"
        if name and not getattr(cit, name):
            setattr(cit, name, _part_value(part))
        elif re.fullmatch(r"(1[89]|20)\d\d", part) and not cit.year:
            cit.year = part
        elif re.fullmatch(r"\d+(?:\s*[-–]\s*\d+)?", part) and not cit.pages and cit.text != part:
            cit.pages = part
        else:
            leftovers.append(part)
    cit.file = ", ".join(leftovers)
    return cit


def _split_archive(name: str) -> tuple[str, str]:
    """"Archive of Foreign Policy of the Russian Federation (AVPRF)" -> (full, "AVPRF")."""
    name = name.strip()
    m = re.match(r"^(.*?)\s*\(([^)]+)\)$", name)
    if m:
        return m.group(1).strip(), m.group(2).strip()
    if re.fullmatch(r"[A-ZА-Я][A-Za-zА-Яа-я]{1,9}", name) and sum(c.isupper() for c in name) >= 2:
        return "", name
    return name, ""


def _part_of(text: str) -> str:
    for name, rx in _PARTS:
        if rx.match(text.strip()):
            return name
    return ""


def _part_value(text: str) -> str:
    for _name, rx in _PARTS:
        m = rx.match(text.strip())
        if m:
            return m.group(1).strip()
    return text
