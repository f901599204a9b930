"""URI minting: identical input gives identical IRIs on every rebuild (docs/uris.md).

Things live under ``{base}id/{kind}/{local}``; their data documents under
``{base}data/{kind}/{local}`` (negotiated) and ``{base}data/{kind}/{local}.{ext}``.
Named graphs live under ``{base}graph/...``; the project vocabulary under ``{base}vocab/...``.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from urllib.parse import quote

# Kinds of things that get IRIs. Order matters for nothing; names appear in IRIs.
KINDS = ("document", "object", "creation", "event", "timespan", "identifier", "title",
         "translation", "person", "place", "organization", "group")

_SAFE = "-._~!$&'()*+,;=:@"   # sub-delims and pchar stay literal: ( ) , ' survive unescaped
_NON_WORD = re.compile(r"[^\w]+", re.UNICODE)
_IRI_UNSAFE = re.compile(r"[\s<>\"{}|\\^`#?%\[\]]")


def slugify(text: str) -> str:
    """ASCII, lower-case, hyphenated slug; CJK/Cyrillic fall back to a percent-free transliteration-free form.

    Non-Latin names keep their letters (IRIs allow them); only separators become hyphens.
    """
    t = unicodedata.normalize("NFKD", text)
    t = "".join(c for c in t if not unicodedata.combining(c))
    t = t.replace("'", "").replace("’", "").replace("ʹ", "")
    t = _NON_WORD.sub("-", t.lower()).strip("-_")
    return unicodedata.normalize("NFC", t) or "unnamed"


def local_part(value: str) -> str:
    """Percent-encode what an IRI path segment cannot hold; keep unicode letters and ( ) , ' as they are."""
    return quote(value, safe=_SAFE + "/", encoding="utf-8", errors="strict").replace("%2F", "/") \
        if not _is_iri_safe(value) else value


def _is_iri_safe(value: str) -> bool:
    return not _IRI_UNSAFE.search(value) and value.isprintable()


@dataclass(frozen=True)
class Minter:
    base: str  # ends with "/"

    # --- things ---
    def thing(self, kind: str, local: str) -> str:
        if kind not in KINDS:
            raise ValueError(f"unknown kind {kind!r}")
        return f"{self.base}id/{kind}/{local_part(local)}"

    def document(self, key: str) -> str:
        return self.thing("document", key)

    def physical(self, key: str) -> str:
        return self.thing("object", key)

    def creation(self, key: str) -> str:
        return self.thing("creation", key)

    def title(self, key: str) -> str:
        return self.thing("title", key)

    def conversation(self, key: str) -> str:
        return self.thing("event", f"{key}-conversation")

    def timespan(self, key: str, role: str) -> str:
        """Record-scoped time-span: role is 'created', 'conversation', 'entry', 'filed'."""
        return self.thing("timespan", f"{key}-{role}")

    def identifier(self, key: str, id_type: str) -> str:
        """id_type: 'record-id', 'archival-reference', 'journal-number', 'slug', 'outgoing-number'."""
        return self.thing("identifier", f"{key}-{id_type}")

    def translation(self, key: str, lang: str) -> str:
        return self.thing("translation", f"{key}-{slugify(lang)}")

    def entity(self, kind: str, authority_id: str) -> str:
        """People, places, organisations by their authority id (a stable slug)."""
        return self.thing(kind, authority_id)

    # --- graphs ---
    def record_graph(self, key: str) -> str:
        return f"{self.base}graph/document/{local_part(key)}"

    @property
    def authority_graph(self) -> str:
        return f"{self.base}graph/authority"

    @property
    def ontology_graph(self) -> str:
        return f"{self.base}graph/ontology"

    @property
    def provenance_graph(self) -> str:
        return f"{self.base}graph/provenance"

    @property
    def enrichment_graph(self) -> str:
        return f"{self.base}graph/wikidata"

    # --- vocabulary, dataset ---
    @property
    def vocab(self) -> str:
        return f"{self.base}vocab/"

    def term(self, scheme: str, term: str) -> str:
        """Project vocabulary term, slash IRIs: {base}vocab/document-type/diary-entry."""
        return f"{self.base}vocab/{scheme}/{term}"

    @property
    def dataset(self) -> str:
        return f"{self.base}id/dataset"

    # --- documents about things ---
    def data_document(self, iri: str, ext: str | None = None) -> str:
        """Data document URL for a thing IRI under {base}id/ ('.ttl' etc. when ext given)."""
        if not iri.startswith(self.base + "id/"):
            raise ValueError(f"not one of our things: {iri}")
        doc = self.base + "data/" + iri[len(self.base) + 3:]
        return doc + "." + ext if ext else doc

    def thing_of_document(self, url: str) -> str:
        if not url.startswith(self.base + "data/"):
            raise ValueError(f"not one of our data documents: {url}")
        return self.base + "id/" + url[len(self.base) + 5:]


def iri_to_uri(iri: str) -> str:
    """Percent-encode the non-ASCII characters only (RFC 3987 §3.1): for Location, Link, sitemaps."""
    return quote(iri, safe=_ASCII_VISIBLE)


_ASCII_VISIBLE = "".join(chr(c) for c in range(33, 127))
