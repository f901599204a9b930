"""SPARQL 1.1 Protocol, query operation: turn the raw parts of an HTTP request into a query request.

Sans-IO: the web layer hands over the method, the raw query string, the Content-Type header and the
body bytes; this module decodes them strictly (UTF-8, no silent replacement characters) and refuses
what the protocol does not allow, each with its own clear message:

* GET: ``query`` in the URL; POST ``application/x-www-form-urlencoded``: ``query`` in the body
  (dataset parameters may also be in the URL); POST ``application/sparql-query``: the body IS the query.
* exactly one ``query`` (400 when repeated); ``default-graph-uri`` / ``named-graph-uri`` repeatable,
  absolute IRIs; at most one ``format``.
* update operations (``update``, ``using-graph-uri``, ``application/sparql-update``): 403, read-only.
* other methods: 405; other media types, bad charsets, bad UTF-8: 400; an over-long query: 413.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import parse_qsl

import pyoxigraph as ox

FORM = "application/x-www-form-urlencoded"
DIRECT = "application/sparql-query"
UPDATE = "application/sparql-update"
UPDATE_PARAMS = ("update", "using-graph-uri", "using-named-graph-uri")
READ_ONLY = ("This SPARQL endpoint is read-only: the SPARQL 1.1 Update operation is not accepted "
             "(no INSERT, DELETE, LOAD, CLEAR, ...). Send a query instead.")


class ProtocolError(Exception):
    def __init__(self, status: int, message: str, kind: str = "protocol", headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status, self.message, self.kind = status, message, kind
        self.headers = headers or {}


@dataclass
class QueryRequest:
    query: str
    default_graphs: list[str] = field(default_factory=list)
    named_graphs: list[str] = field(default_factory=list)
    format: str | None = None

    @property
    def has_dataset(self) -> bool:
        return bool(self.default_graphs or self.named_graphs)


def _pairs(raw: bytes, where: str) -> list[tuple[str, str]]:
    try:
        text = raw.decode("ascii")
    except UnicodeDecodeError:
        raise ProtocolError(400, f"the {where} contains bytes that are not percent-encoded") from None
    try:
        return parse_qsl(text, keep_blank_values=True, strict_parsing=False, encoding="utf-8", errors="strict",
                         max_num_fields=1000)
    except UnicodeDecodeError:
        raise ProtocolError(400, f"the {where} is not valid UTF-8 once percent-decoded") from None
    except ValueError as exc:
        raise ProtocolError(400, f"the {where} cannot be parsed: {exc}") from None


def _media_type(header: str | None) -> tuple[str, dict[str, str]]:
    if not header:
        return "", {}
    head, *params = header.split(";")
    out = {}
    for p in params:
        k, _, v = p.partition("=")
        out[k.strip().lower()] = v.strip().strip('"')
    return head.strip().lower(), out


def _check_charset(params: dict[str, str]) -> None:
    cs = params.get("charset")
    if cs is not None and cs.lower().replace("_", "-") not in ("utf-8", "utf8"):
        raise ProtocolError(400, f"charset={cs} is not supported: SPARQL requests must be UTF-8", "charset")


def _graphs(pairs: list[tuple[str, str]], name: str) -> list[str]:
    out = []
    for k, v in pairs:
        if k != name:
            continue
        try:
            ox.NamedNode(v)
        except ValueError as exc:
            raise ProtocolError(400, f"{name}={v!r} is not an absolute IRI: {exc}", "graph") from None
        out.append(v)
    return out


def parse(method: str, query_string: bytes, content_type: str | None, body: bytes,
          *, max_query: int = 1_000_000) -> QueryRequest | None:
    """The query request, or None for a plain GET without parameters (service description / page)."""
    method = method.upper()
    if method not in ("GET", "HEAD", "POST"):
        raise ProtocolError(405, f"method {method} is not allowed here: use GET or POST (SPARQL 1.1 Protocol)",
                            "method", {"Allow": "GET, HEAD, POST, OPTIONS"})
    url = _pairs(query_string, "URL query string")
    if any(k in UPDATE_PARAMS for k, _ in url):
        raise ProtocolError(403, READ_ONLY, "update")
    if method in ("GET", "HEAD"):
        params = url
        if not any(k in ("query", "default-graph-uri", "named-graph-uri") for k, _ in params):
            return None
    else:
        mtype, mparams = _media_type(content_type)
        if mtype == UPDATE:
            raise ProtocolError(403, READ_ONLY, "update")
        if mtype == FORM:
            _check_charset(mparams)
            form = _pairs(body, "form body")
            if any(k in UPDATE_PARAMS for k, _ in form):
                raise ProtocolError(403, READ_ONLY, "update")
            params = url + form
        elif mtype == DIRECT:
            _check_charset(mparams)
            if any(k == "query" for k, _ in url):
                raise ProtocolError(400, "a POST with Content-Type application/sparql-query carries the query in "
                                         "its body; do not also send a query parameter", "repeated")
            try:
                text = body.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise ProtocolError(400, f"the request body is not valid UTF-8 ({exc.reason} at byte {exc.start})",
                                    "charset") from None
            params = [("query", text)] + url
        elif not mtype:
            raise ProtocolError(400, f"a POST needs a Content-Type: {FORM} (query=...) or {DIRECT} "
                                     "(the query as the body)", "media-type")
        else:
            raise ProtocolError(400, f"unsupported Content-Type {mtype!r}: use {FORM} or {DIRECT}", "media-type")
    queries = [v for k, v in params if k == "query"]
    if len(queries) > 1:
        raise ProtocolError(400, f"the query parameter was given {len(queries)} times; send exactly one",
                            "repeated")
    if not queries or not queries[0].strip():
        raise ProtocolError(400, "missing query: send query=... (or POST the query as application/sparql-query)",
                            "missing")
    query = queries[0]
    if len(query.encode("utf-8")) > max_query:
        raise ProtocolError(413, f"the query is longer than this endpoint's limit of {max_query} bytes", "size")
    formats = [v for k, v in params if k == "format"]
    if len(formats) > 1:
        raise ProtocolError(400, "the format parameter was given more than once", "repeated")
    return QueryRequest(query=query, default_graphs=_graphs(params, "default-graph-uri"),
                        named_graphs=_graphs(params, "named-graph-uri"), format=formats[0] if formats else None)
