"""Result formats, their media types, and capped serialisation (runs inside the query workers).

Every result is produced by Oxigraph's own serialisers (no per-row Python): a SELECT result is first
written as TSV, which is lossless and has exactly one line per row, through a writer that stops the
evaluation as soon as one row more than the cap has arrived; that TSV is then re-read and written in
the requested format. CONSTRUCT/DESCRIBE go the same way through N-Triples. So the row cap costs no
extra evaluation and a capped query stops early instead of computing rows nobody will see.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import pyoxigraph as ox

SELECT_FORMS = ("SELECT", "ASK", "")
GRAPH_FORMS = ("CONSTRUCT", "DESCRIBE")


@dataclass(frozen=True)
class Format:
    key: str
    media_type: str
    graph: bool                     # an RDF graph format (CONSTRUCT/DESCRIBE) or a results format
    names: tuple[str, ...] = ()     # `format=` parameter values besides the media type
    aliases: tuple[str, ...] = ()   # further media types that select it in Accept

    @property
    def content_type(self) -> str:
        return self.media_type + ("; charset=utf-8" if self.key not in ("xml", "rdfxml") else "")


FORMATS = (
    Format("json", "application/sparql-results+json", False, ("json", "srj"), ("application/json",)),
    Format("xml", "application/sparql-results+xml", False, ("xml", "srx"), ("application/xml", "text/xml")),
    Format("csv", "text/csv", False, ("csv",)),
    Format("tsv", "text/tab-separated-values", False, ("tsv",)),
    Format("turtle", "text/turtle", True, ("turtle", "ttl"), ("application/x-turtle",)),
    Format("ntriples", "application/n-triples", True, ("ntriples", "nt", "n-triples"), ("text/plain",)),
    Format("rdfxml", "application/rdf+xml", True, ("rdfxml", "rdf", "xml"), ("application/xml", "text/xml")),
    Format("jsonld", "application/ld+json", True, ("jsonld", "json-ld", "json"), ("application/json",)),
)
BY_KEY = {f.key: f for f in FORMATS}

_OX_RESULTS = {"json": ox.QueryResultsFormat.JSON, "xml": ox.QueryResultsFormat.XML,
               "csv": ox.QueryResultsFormat.CSV, "tsv": ox.QueryResultsFormat.TSV}
_OX_RDF = {"turtle": ox.RdfFormat.TURTLE, "ntriples": ox.RdfFormat.N_TRIPLES,
           "rdfxml": ox.RdfFormat.RDF_XML, "jsonld": ox.RdfFormat.JSON_LD}


class FormatError(ValueError):
    """A `format` parameter that names no format we offer for this query form (HTTP 400)."""


def formats_for(form: str) -> list[Format]:
    graph = form in GRAPH_FORMS
    return [f for f in FORMATS if f.graph == graph]


def offers(form: str) -> dict[str, str]:
    """Media type -> format key, in server preference order (canonical types first, then aliases)."""
    out: dict[str, str] = {}
    fs = formats_for(form)
    for f in fs:
        out.setdefault(f.media_type, f.key)
    for f in fs:
        for alias in f.aliases:
            out.setdefault(alias, f.key)
    return out


def by_param(value: str, form: str) -> str:
    """The format a `format=` parameter names: a short name (json, xml, csv, tsv, turtle, ...) or a media type."""
    v = value.strip().lower().replace(" ", "+")   # an unencoded '+' arrives as a space
    v = v.split(";")[0].strip()
    for f in formats_for(form):
        if v == f.media_type or v in f.names or v in f.aliases:
            return f.key
    names = ", ".join(n for f in formats_for(form) for n in (f.names[0], f.media_type))
    kind = "CONSTRUCT/DESCRIBE" if form in GRAPH_FORMS else "SELECT/ASK"
    raise FormatError(f"format={value!r} is not offered for {kind} results; use one of: {names}")


# ----------------------------------------------------------------------------------- serialising
class _Full(Exception):
    pass


class _CappedWriter:
    """Binary sink that raises once it has ``limit`` lines: Oxigraph then stops pulling solutions."""

    def __init__(self, limit: int) -> None:
        self.buf = bytearray()
        self.lines = 0
        self.limit = limit

    def write(self, data: bytes) -> int:
        self.buf += data
        self.lines += data.count(b"\n")
        if self.lines >= self.limit:
            raise _Full()
        return len(data)

    def flush(self) -> None:
        pass


def _first_lines(buf: bytearray, n: int) -> bytes:
    pos = 0
    for _ in range(n):
        nl = buf.find(b"\n", pos)
        if nl < 0:
            return bytes(buf)
        pos = nl + 1
    return bytes(buf[:pos])


def _capped(result: ox.QuerySolutions | ox.QueryTriples, fmt: object, lines: int) -> tuple[bytes, bool]:
    """Serialise at most ``lines`` lines; True when more were available."""
    w = _CappedWriter(lines + 1)
    try:
        result.serialize(w, format=fmt)
    except _Full:
        return _first_lines(w.buf, lines), True
    except OSError as exc:   # pyoxigraph may wrap the writer's exception
        if w.lines >= w.limit:
            return _first_lines(w.buf, lines), True
        raise exc
    return bytes(w.buf), False


def serialise(result: object, fmt: str, max_rows: int, *, prefixes: dict[str, str] | None = None,
              note: str = "") -> tuple[bytes, int, bool]:
    """(body, rows, truncated) for a pyoxigraph query result in format ``fmt`` (a Format key)."""
    if isinstance(result, ox.QueryBoolean):
        if fmt not in _OX_RESULTS:
            raise FormatError(f"an ASK result cannot be written as {fmt}")
        return result.serialize(format=_OX_RESULTS[fmt]), 1, False
    if isinstance(result, ox.QuerySolutions):
        if fmt not in _OX_RESULTS:
            raise FormatError(f"a SELECT result cannot be written as {BY_KEY[fmt].media_type}")
        tsv, truncated = _capped(result, ox.QueryResultsFormat.TSV, max_rows + 1)
        rows = tsv.count(b"\n") - 1
        if fmt == "tsv":
            body = tsv
        else:
            body = ox.parse_query_results(tsv, ox.QueryResultsFormat.TSV).serialize(format=_OX_RESULTS[fmt])
        if truncated and note:
            body = _annotate(body, fmt, note)
        return body, rows, truncated
    if fmt not in _OX_RDF:
        raise FormatError(f"a CONSTRUCT/DESCRIBE result cannot be written as {BY_KEY[fmt].media_type}")
    nt, truncated = _capped(result, ox.RdfFormat.N_TRIPLES, max_rows)
    rows = nt.count(b"\n")
    if fmt == "ntriples":
        body = nt
    else:
        triples = ox.parse(nt, ox.RdfFormat.N_TRIPLES)
        body = ox.serialize(triples, format=_OX_RDF[fmt],
                            prefixes=prefixes if fmt in ("turtle", "rdfxml") else None) or b""
    if truncated and note:
        body = _annotate(body, fmt, note)
    return body, rows, truncated


def _annotate(body: bytes, fmt: str, note: str) -> bytes:
    """Say in the body that it was truncated, where the format has room for it (never CSV/TSV/JSON-LD)."""
    if fmt == "json" and body.startswith(b'{"head":{"vars":['):
        end = body.index(b"]", 17)
        return body[:end + 1] + b',"link":[' + json.dumps(note).encode() + b"]" + body[end + 1:]
    if fmt == "xml":
        link = b'<link href="' + note.replace("&", "&amp;").replace('"', "&quot;").encode() + b'"/>'
        return body.replace(b"</head>", link + b"</head>", 1)
    if fmt in ("turtle", "ntriples"):
        return b"# Truncated at the endpoint's row cap; see " + note.encode() + b"\n" + body
    if fmt == "rdfxml" and body.startswith(b"<?xml"):
        end = body.index(b"?>") + 2
        return body[:end] + b"\n<!-- Truncated at the endpoint's row cap; see " + note.encode() + b" -->" + body[end:]
    return body
