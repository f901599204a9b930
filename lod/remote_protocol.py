"""The SPARQL 1.1 Protocol client under lod.remote: HTTP with credentials, query text, answers.

Kept apart from the store logic so each stays small: an :class:`Endpoint` (a connection pool per
thread, Digest or Basic credentials, every network failure turned into :class:`StoreUnavailable`),
the few facts lod.remote needs from a query's text (its form, whether it names a graph or brings a
dataset; pyoxigraph-style substitutions), and the conversion of a store's answer into pyoxigraph
result objects (including Virtuoso's quirks: ``nodeID://`` blank nodes, booleans as 1/0).
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterable, Mapping
from typing import Any

import pyoxigraph as ox
import requests
from requests.auth import HTTPBasicAuth, HTTPDigestAuth

from lod.store import StoreError, StoreUnavailable

EMPTY_GRAPH = "urn:x-lod:empty-default-graph"   # stands for the (empty) store default graph
JSON_RESULTS = "application/sparql-results+json"
RDF_ACCEPT = "application/n-triples, text/turtle;q=0.8"
# what a graph answer may be parsed as: what we asked for (never RDF/XML, whose parser expands entities)
GRAPH_FORMATS = {"application/n-triples": ox.RdfFormat.N_TRIPLES, "text/plain": ox.RdfFormat.N_TRIPLES,
                 "": ox.RdfFormat.N_TRIPLES, "text/turtle": ox.RdfFormat.TURTLE,
                 "application/x-turtle": ox.RdfFormat.TURTLE}
XSD_BOOLEAN = "http://www.w3.org/2001/XMLSchema#boolean"


# ----------------------------------------------------------------------------------- HTTP
class _Auth(HTTPDigestAuth):
    """Answers whichever challenge the store sends: Digest (Virtuoso's /sparql-auth) or Basic."""

    def __init__(self, user: str, password: str) -> None:
        super().__init__(user, password)
        self.basic = False

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        if self.basic:
            return HTTPBasicAuth(self.username, self.password)(r)
        return super().__call__(r)

    def handle_401(self, r: requests.Response, **kwargs: Any) -> requests.Response:
        challenge = r.headers.get("www-authenticate", "").lower()
        if challenge.startswith("basic") and not self.basic:
            self.basic = True
            r.content  # noqa: B018 - drain so the connection can be reused
            r.close()
            prep = r.request.copy()
            HTTPBasicAuth(self.username, self.password)(prep)
            again = r.connection.send(prep, **kwargs)
            again.history.append(r)
            again.request = prep
            return again
        return super().handle_401(r, **kwargs)


class Endpoint:
    """One HTTP endpoint with a connection pool per thread, credentials and failure translation."""

    def __init__(self, url: str, *, user: str = "", password: str = "", timeout: float = 30.0,
                 connect_timeout: float = 3.0, auth: _Auth | None = None) -> None:
        self.url = url
        self.auth = auth or (_Auth(user, password) if user else None)
        self.timeout = (connect_timeout, timeout)
        self._local = threading.local()
        self.server = ""  # the Server header of the last answer ("Virtuoso/07.20.3229 ...")

    @property
    def session(self) -> requests.Session:
        s = getattr(self._local, "session", None)
        if s is None:
            s = self._local.session = requests.Session()
            s.auth = self.auth
            s.headers["User-Agent"] = "lod-remote-store/1"
        return s

    def request(self, method: str, *, params: Any = None, data: Any = None, headers: Mapping[str, str] | None = None,
                timeout: float | None = None, what: str = "request") -> requests.Response:
        t = self.timeout if timeout is None else (self.timeout[0], timeout)
        try:
            r = self.session.request(method, self.url, params=params, data=data, headers=headers, timeout=t)
        except requests.exceptions.ConnectTimeout as exc:
            raise StoreUnavailable(f"remote store {self.url}: no connection within {t[0]} s ({what})") from exc
        except requests.exceptions.ReadTimeout as exc:
            raise StoreUnavailable(f"remote store {self.url}: no answer within {t[1]} s ({what})") from exc
        except (requests.exceptions.InvalidURL, requests.exceptions.InvalidSchema,
                requests.exceptions.MissingSchema) as exc:
            raise StoreError(f"remote store URL {self.url!r} is not usable: {exc}") from exc
        except requests.exceptions.RequestException as exc:   # refused, reset, DNS...
            raise StoreUnavailable(f"remote store {self.url} unreachable ({what}): {exc.__class__.__name__}") from exc
        self.server = r.headers.get("Server", self.server)
        if r.status_code in (502, 503, 504):
            raise StoreUnavailable(f"remote store {self.url} answered {r.status_code} ({what})")
        if r.status_code in (401, 403):
            raise StoreError(f"remote store {self.url} refused the credentials ({r.status_code}, {what}); "
                             "check store_user / store_password")
        if r.status_code == 404:
            raise StoreError(f"remote store {self.url} answered 404 ({what}): is this the SPARQL endpoint URL?")
        return r


# ----------------------------------------------------------------------------------- query text
_PROLOGUE = re.compile(r"""\s+|\#[^\n]*|BASE\s*<[^>]*>|PREFIX\s*[^\s:]*:\s*<[^>]*>""", re.I)
_FORM = re.compile(r"(SELECT|ASK|CONSTRUCT|DESCRIBE|DEFINE)\b", re.I)
_TOKEN = re.compile(r'''"""(?:[^"\\]|\\.|"(?!""))*"""|'\'\'(?:[^'\\]|\\.|'(?!''))*'\'\'|"(?:[^"\\\n]|\\.)*"'''
                    r"""|'(?:[^'\\\n]|\\.)*'|<[^<>"{}|^`\\\x00-\x20]*>|\#[^\n]*|[{}]|\bWHERE\b""", re.I)


_QUOTED = re.compile(r'''"""(?:[^"\\]|\\.|"(?!""))*"""|\'\'\'(?:[^\'\\]|\\.|\'(?!\'\'))*\'\'\'|"(?:[^"\\\n]|\\.)*"'''
                     r"""|'(?:[^'\\\n]|\\.)*'|<[^<>"{}|^`\\\x00-\x20]*>|\#[^\n]*""")
_CONSTANT_GRAPH = re.compile(r"\bGRAPH\s*(<|[A-Za-z][\w.-]*:|:)", re.I)
_DATASET_CLAUSE = re.compile(r"\bFROM\s+(NAMED\s+)?(<|[A-Za-z][\w.-]*:|:)", re.I)


def _code(sparql: str) -> str:
    """The query with strings and comments blanked (IRIs kept), for keyword tests."""
    def blank(m: re.Match[str]) -> str:
        return m.group(0) if m.group(0).startswith("<") else " "
    return _QUOTED.sub(blank, sparql)


def names_constant_graph(sparql: str) -> bool:
    """Does the query say ``GRAPH <iri>`` / ``GRAPH prefix:name``? (strings and comments do not count)"""
    return bool(_CONSTANT_GRAPH.search(_code(sparql)))


def has_dataset_clause(sparql: str) -> bool:
    """Does the query bring its own dataset (``FROM`` / ``FROM NAMED``)?"""
    return bool(_DATASET_CLAUSE.search(_code(sparql)))


def query_form(sparql: str) -> tuple[str, int]:
    """(SELECT|ASK|CONSTRUCT|DESCRIBE, offset of that keyword). Raises SyntaxError as pyoxigraph would."""
    pos = 0
    while True:
        m = _PROLOGUE.match(sparql, pos)
        if not m or m.end() == pos:
            break
        pos = m.end()
    m = _FORM.match(sparql, pos)
    if not m:
        raise SyntaxError("not a SPARQL query: expected SELECT, ASK, CONSTRUCT or DESCRIBE after the prologue")
    form = m.group(1).upper()
    if form == "DEFINE":
        raise SyntaxError("'define' pragmas are not SPARQL 1.1 and are not accepted")
    return form, pos


def _where_brace(sparql: str, form: str, start: int) -> int:
    """Offset just inside the WHERE group's '{' (skipping strings, IRIs, comments, a CONSTRUCT template)."""
    depth, template_done = 0, form != "CONSTRUCT"
    for m in _TOKEN.finditer(sparql, start):
        tok = m.group(0)
        if tok.upper() == "WHERE" and depth == 0:
            template_done = True
        elif tok == "{":
            if depth == 0 and template_done:
                return m.end()
            depth += 1
        elif tok == "}":
            depth -= 1
            if depth == 0:
                template_done = True
    raise SyntaxError("query has no WHERE group to substitute values into")


def substitute(sparql: str, substitutions: Mapping[Any, Any]) -> str:
    """pyoxigraph's ``substitutions=`` (SEP-0007) as a VALUES block opening the WHERE group."""
    form, start = query_form(sparql)
    names = " ".join(f"?{getattr(v, 'value', v)}" for v in substitutions)
    terms = " ".join(str(t) for t in substitutions.values())
    at = _where_brace(sparql, form, start)
    return f"{sparql[:at]} VALUES ({names}) {{ ({terms}) }} {sparql[at:]}"


# ----------------------------------------------------------------------------------- answers
def _normalise_json(body: bytes) -> bytes:
    """Virtuoso writes blank nodes as ``nodeID://b1`` and booleans as "1"/"0"; make both standard."""
    if b"nodeID://" not in body and XSD_BOOLEAN.encode() not in body:
        return body
    doc = json.loads(body)
    for row in doc.get("results", {}).get("bindings", []):
        for term in row.values():
            if term.get("type") == "bnode" and term["value"].startswith("nodeID://"):
                term["value"] = "v" + re.sub(r"[^A-Za-z0-9_]", "_", term["value"][9:])
            elif term.get("datatype") == XSD_BOOLEAN and term.get("value") in ("1", "0"):
                term["value"] = "true" if term["value"] == "1" else "false"
    return json.dumps(doc).encode()


def _triples_result(triples: Iterable[ox.Triple]) -> ox.QueryTriples:
    """A real ``QueryTriples`` (callers may isinstance-check or .serialize() it) over parsed triples."""
    mem = ox.Store()
    mem.extend(ox.Quad(t.subject, t.predicate, t.object) for t in triples)
    return mem.query("CONSTRUCT WHERE { ?s ?p ?o }")


def _graph_param(g: Any) -> str:
    if isinstance(g, ox.DefaultGraph):
        return EMPTY_GRAPH
    if isinstance(g, ox.NamedNode):
        return g.value
    if isinstance(g, str):
        return g
    raise ValueError(f"a remote store names graphs by IRI only, not {g!r}")


def _as_list(v: Any) -> list[Any]:
    return list(v) if isinstance(v, list | tuple | set) else [v]


def _message(r: requests.Response) -> str:
    text = r.text.strip()
    return text.split("\n\nSPARQL query:")[0][:500] or f"HTTP {r.status_code}"
