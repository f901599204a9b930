"""Data documents as status, headers and body, without Flask: what /data/... answers once the thing
and the format are known.

Two callers, one answer: the Flask view (lod.web.resources) for every data document, and the production
front (lod.web.asgi), which answers ``/data/document/<key>.<ext>`` for RDF formats itself, so the most
requested URLs skip the WSGI environ and Flask's request machinery (a sixth of their CPU). test_front
holds both paths to the same status, headers and body.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote_to_bytes

from lod.describe import Describer, Description
from lod.oai.prepared import PreparedFiles
from lod.render import FORMATS, Format, serialize, serialize_lines
from lod.uris import iri_to_uri
from lod.web import cache

CORS_EXPOSE = "Link, Content-Location, Location, ETag, Last-Modified, Vary"
_PERCENT = re.compile(r"(?:%[0-9A-Fa-f]{2})+")
_UNRESERVED = frozenset(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~!$&'()*+,;=:@")


@dataclass
class Answer:
    status: int
    headers: list[tuple[str, str]]
    body: bytes


@dataclass
class State:
    """Per app: the describer and the descriptions and bodies kept (a quarter of response_cache_mb; the
    front keeps whole responses in the rest)."""

    describer: Describer
    bodies: cache.LRU
    store: Any
    settings: Any

    @classmethod
    def of(cls, app: Any) -> State:
        """The app's state (made once; ``app`` is the Flask app, used only as a holder of config)."""
        st = app.extensions.get("lod.resources")
        if st is None:
            s, store = app.config["LOD_SETTINGS"], app.config["LOD_STORE"]
            describer = Describer(store, app.config["LOD_MINTER"], licence=s.licence,
                                  page_size=s.inverse_page_size, prepared=PreparedFiles(s))
            st = app.extensions["lod.resources"] = cls(describer, cache.LRU(max_bytes=int(s.response_cache_mb) * 2**18),
                                                       store, s)
        return st

    def build_id(self) -> str:
        build = getattr(self.store, "build", None)
        return build.name if build is not None else "remote"

    def meta(self) -> dict[str, str]:
        cat = getattr(self.store, "catalog", None)
        return cat.meta() if cat is not None else {}

    def describe(self, iri: str, page: int) -> Description | None:
        key = (self.build_id(), iri, "description", page)
        desc = self.bodies.get(key)
        if desc is None:
            desc = self.describer.describe(iri, page, meta=self.meta())
            if desc is None or desc.turtle is not None:   # the build's described file: one row, not kept here
                return desc
            self.bodies.put(key, desc, len(desc.nt) * 2 if desc.nt is not None else 200 * len(desc.triples))
        return desc

    def body(self, desc: Description, fmt: Format) -> bytes:
        if fmt.name == "turtle" and desc.turtle is not None:
            return desc.turtle
        key = (self.build_id(), desc.thing, fmt.name, desc.page)
        body = self.bodies.get(key)
        if body is None:
            if fmt.name == "html":
                from lod.web import html  # Jinja: only under a Flask app context (the Flask view)
                body = html.render_description(desc).encode()
            elif desc.nt is not None and fmt.name != "jsonld":
                body = serialize_lines(desc.nt, fmt)
            else:
                body = serialize(desc.triples, fmt, context_url=self.settings.base_uri + "context.jsonld")
            self.bodies.put(key, body, len(body))
        return body

    def answer(self, desc: Description, fmt: Format, *, negotiated: bool, if_none_match: str | None,
               if_modified_since: str | None) -> Answer:
        """200 with the document, or 304 when the validators match; with every header of a data document."""
        body = self.body(desc, fmt)
        tag = cache.etag(self.build_id(), desc.thing, fmt.name, desc.page)
        last = cache.http_date(self.meta().get("built_at"))
        ctype = fmt.media_type + ("; charset=utf-8" if fmt.media_type.startswith("text/") else "")
        headers = [("Content-Type", ctype), ("ETag", tag)]
        if last:
            headers.append(("Last-Modified", last))
        headers += [("Cache-Control", f"public, max-age={self.settings.cache_max_age}"),
                    ("Link", links(desc.doc_url, desc.page, desc, fmt)),
                    ("Access-Control-Allow-Origin", "*"), ("Access-Control-Expose-Headers", CORS_EXPOSE)]
        if negotiated:
            headers += [("Vary", "Accept"), ("Content-Location", url(desc.doc_url, fmt, desc.page))]
        if cache.not_modified(tag, last, if_none_match, if_modified_since):
            return Answer(304, [(k, v) for k, v in headers if k.lower() in cache.KEEP_ON_304], b"")
        return Answer(200, headers, body)


def url(doc_url: str, fmt: Format | None, page: int) -> str:
    u = doc_url + ("." + fmt.ext if fmt else "")
    return iri_to_uri(u if page == 1 else f"{u}?page={page}")


def links(doc_url: str, page: int, desc: Description | None, fmt: Format | None) -> str:
    out = [f'<{url(doc_url, f, page)}>; rel="alternate"; type="{f.media_type}"' for f in FORMATS]
    if desc is not None:
        if desc.next_page:
            out.append(f'<{url(doc_url, fmt, desc.next_page)}>; rel="next"')
        if desc.prev_page:
            out.append(f'<{url(doc_url, fmt, desc.prev_page)}>; rel="prev"')
        out.append(f'<{iri_to_uri(desc.thing)}>; rel="describes"')
    return ", ".join(out)


# ------------------------------------------------------------------------------------ request path -> IRI
def _decode(raw: str, keep_ascii: bool) -> str:
    """Decode %XX runs: non-ASCII UTF-8 always; unreserved/sub-delim ASCII too unless keep_ascii."""
    def fix(m: re.Match[str]) -> str:
        data = unquote_to_bytes(m.group(0))
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            return m.group(0)
        out = []
        for ch, piece in zip(text, _pieces(m.group(0), text), strict=True):
            if ord(ch) >= 128 or (not keep_ascii and ord(ch) in _UNRESERVED):
                out.append(ch)
            else:
                out.append(piece)
        return "".join(out)
    return _PERCENT.sub(fix, raw)


def _pieces(encoded: str, text: str) -> list[str]:
    """The %XX groups of ``encoded`` per decoded character of ``text``."""
    out, i = [], 0
    for ch in text:
        n = len(ch.encode("utf-8")) * 3
        out.append(encoded[i:i + n])
        i += n
    return out


def candidates(base: str, rel: str) -> list[str]:
    """IRIs a request path may name: as sent; non-ASCII decoded; unreserved escapes decoded too."""
    out = [base + rel, base + _decode(rel, True), base + _decode(rel, False)]
    return list(dict.fromkeys(out))


def find_thing(describer: Describer, rels: list[str]) -> str | None:
    base = describer.minter.base
    for rel in rels:
        for iri in candidates(base, rel):
            if describer.exists(iri):
                return iri
    return None
