"""SERVICE, done by our code: allow-listed endpoints only, with timeouts, a User-Agent and size caps.

The query that reaches a worker never contains SERVICE (and the worker could not reach the network
anyway, lod.sparql.sandbox). Instead, each top-level ``SERVICE <e> { P }`` is evaluated here:

1. bind join, when SERVICE is a direct member of the WHERE group and nothing there could make a
   superset wrong (no MINUS, no FILTER below the top level): the rest of the WHERE group, without
   SERVICE clauses and top-level FILTERs, is evaluated locally for the variables it shares with P
   (``SELECT DISTINCT``), a superset of the bindings that can join; they travel as ``VALUES``;
2. ``SELECT * WHERE { P } [VALUES ...]`` is sent to <e> (GET, or POST form when long), no redirects
   followed, read with a byte cap and against the query's deadline, at most ``max_rows`` rows kept;
3. the SERVICE clause is replaced, in the query text, by ``VALUES (?vars) { rows }`` — joining
   inline data is exactly what joining SERVICE results means. Blank nodes from the remote side
   become skolem IRIs ``urn:x-lod-service-bnode:...`` (VALUES cannot hold blank nodes).

``SERVICE SILENT`` turns a failure into one empty solution, as the spec says; a plain SERVICE
failure is an error (HTTP 502).
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pyoxigraph as ox

from lod import __version__
from lod.sparql.lexer import PUNCT, VAR, Token, matching
from lod.sparql.safety import Analysis, ServiceClause

if TYPE_CHECKING:
    import requests

MAX_BYTES = 32 * 1024 * 1024      # largest SERVICE answer read
BIND_MAX = 2000                   # most candidate bindings sent along; more: plain SERVICE
GET_MAX = 2000                    # longer remote queries are POSTed


class ServiceError(Exception):
    """A SERVICE call failed (HTTP 502 unless SILENT)."""


@dataclass
class Remote:
    vars: list[str]
    rows: list[list[str | None]]   # SPARQL term syntax, None = unbound
    truncated: bool


def user_agent(base_uri: str, contact: str = "") -> str:
    who = f"; {contact}" if contact else ""
    return f"lod-sparql/{__version__} (+{base_uri}{who}) federated query"


class Federator:
    def __init__(self, *, timeout: float, max_rows: int, user_agent: str,
                 session: requests.Session | None = None) -> None:
        self.timeout = timeout
        self.max_rows = max_rows
        self.ua = user_agent
        self._session = session
        self.calls = 0

    @property
    def session(self) -> requests.Session:
        """Made on the first SERVICE call: requests costs ~14 MB per server process that never makes one."""
        if self._session is None:
            import requests

            self._session = requests.Session()
        return self._session

    # ------------------------------------------------------------------ HTTP
    def fetch(self, endpoint: str, query: str, deadline: float) -> Remote:
        import requests

        budget = min(self.timeout, deadline - time.monotonic())
        if budget <= 0:
            raise ServiceError(f"SERVICE <{endpoint}>: no time left within the query's limit")
        headers = {"Accept": "application/sparql-results+json, application/sparql-results+xml;q=0.9",
                   "User-Agent": self.ua}
        self.calls += 1
        start = time.monotonic()
        try:
            if len(query) <= GET_MAX:
                r = self.session.get(endpoint, params={"query": query}, headers=headers, stream=True,
                                     timeout=(min(5.0, budget), budget), allow_redirects=False)
            else:
                r = self.session.post(endpoint, data={"query": query}, headers=headers, stream=True,
                                      timeout=(min(5.0, budget), budget), allow_redirects=False)
            with r:
                if r.status_code != 200:
                    snippet = r.raw.read(300, decode_content=True).decode("utf-8", "replace").strip()
                    raise ServiceError(f"SERVICE <{endpoint}> answered HTTP {r.status_code}: {snippet[:300]}")
                chunks, size = [], 0
                for chunk in r.iter_content(65536):
                    size += len(chunk)
                    if size > MAX_BYTES:
                        raise ServiceError(f"SERVICE <{endpoint}>: answer larger than {MAX_BYTES} bytes")
                    if time.monotonic() - start > budget:
                        raise ServiceError(f"SERVICE <{endpoint}>: no complete answer within {budget:.1f} s")
                    chunks.append(chunk)
                body = b"".join(chunks)
                ctype = r.headers.get("Content-Type", "").split(";")[0].strip().lower()
        except requests.RequestException as exc:
            raise ServiceError(f"SERVICE <{endpoint}> could not be reached: {type(exc).__name__}: {exc}") from None
        return self._parse(endpoint, body, ctype)

    def _parse(self, endpoint: str, body: bytes, ctype: str) -> Remote:
        fmt = {"application/sparql-results+xml": ox.QueryResultsFormat.XML,
               "application/xml": ox.QueryResultsFormat.XML,
               "text/tab-separated-values": ox.QueryResultsFormat.TSV}.get(ctype, ox.QueryResultsFormat.JSON)
        try:
            results = ox.parse_query_results(body, fmt)
        except (SyntaxError, ValueError, OSError) as exc:
            raise ServiceError(f"SERVICE <{endpoint}>: unreadable SPARQL results ({ctype}): {exc}") from None
        if not isinstance(results, ox.QuerySolutions):
            raise ServiceError(f"SERVICE <{endpoint}> answered a boolean, not solutions")
        names = [v.value for v in results.variables]
        salt = secrets.token_hex(4)
        rows: list[list[str | None]] = []
        truncated = False
        try:
            for sol in results:     # the parser streams: a broken answer can fail here, mid-way
                if len(rows) >= self.max_rows:
                    truncated = True
                    break
                rows.append([_term(sol[n], salt) for n in names])
        except (SyntaxError, ValueError, OSError) as exc:
            raise ServiceError(f"SERVICE <{endpoint}>: unreadable SPARQL results ({ctype}): {exc}") from None
        return Remote(names, rows, truncated)

    # ------------------------------------------------------------------ rewriting
    def resolve(self, a: Analysis, local: Callable[[str, float], bytes], deadline: float) -> tuple[str, bool]:
        """The query with every SERVICE replaced by VALUES; ``local(query, deadline)`` returns TSV bytes."""
        text = a.query
        truncated = False
        replacements: list[tuple[ServiceClause, str]] = []
        for s in a.services:
            try:
                values = self._bind_values(a, s, local, deadline)
                if values is not None and values[1] == []:
                    replacements.append((s, _values(values[0], [])))   # nothing can join: no call needed
                    continue
                remote_q = (a.query[:a.prologue.text_end] + "\nSELECT * WHERE {" + s.body + "}"
                            + ("\n" + _values(*values) if values is not None else ""))
                remote = self.fetch(s.endpoint, remote_q, deadline)
            except ServiceError:
                if not s.silent:
                    raise
                replacements.append((s, "VALUES () { () }"))
                continue
            truncated = truncated or remote.truncated
            replacements.append((s, _values(remote.vars, remote.rows)))
        for s, repl in sorted(replacements, key=lambda x: x[0].start, reverse=True):
            text = text[:s.start] + repl + text[s.end:]
        return text, truncated

    def _bind_values(self, a: Analysis, s: ServiceClause, local: Callable[[str, float], bytes],
                     deadline: float) -> tuple[list[str], list[list[str | None]]] | None:
        """Candidate bindings of the shared variables, or None when a bind join is not safe or not useful."""
        if not s.in_where or a.where is None:
            return None
        toks = a.tokens
        w0, w1 = a.where
        inside = set(range(s.tok_start, s.tok_end + 1))
        skip: set[int] = set()
        for other in a.services:
            skip.update(range(other.tok_start, other.tok_end + 1))
        depth, i = 0, w0 + 1
        top_filters: list[tuple[int, int]] = []
        while i < w1:
            t = toks[i]
            if i in skip:
                i += 1
                continue
            if t.kind == PUNCT and t.text in "{}":
                depth += 1 if t.text == "{" else -1
            elif t.is_name("MINUS", "NOT"):
                return None
            elif t.is_name("FILTER"):
                if depth != 0:
                    return None
                end = _filter_end(toks, i)
                top_filters.append((i, end))
                skip.update(range(i, end + 1))
                i = end + 1
                continue
            i += 1
        service_vars = {t.text[1:] for t in toks[s.tok_start:s.tok_end + 1] if t.kind == VAR}
        outside_vars = {toks[i].text[1:] for i in range(w0 + 1, w1)
                        if toks[i].kind == VAR and i not in skip and i not in inside}
        shared = sorted(service_vars & outside_vars)
        if not shared:
            return None
        # the WHERE group's text with every SERVICE and top-level FILTER cut out
        spans = sorted([(toks[o.tok_start].start, toks[o.tok_end].end) for o in a.services]
                       + [(toks[f0].start, toks[f1].end) for f0, f1 in top_filters])
        body, pos = [], toks[w0].end
        for s0, s1 in spans:
            body.append(a.query[pos:s0])
            pos = s1
        body.append(a.query[pos:toks[w1].start])
        dataset = " ".join(a.query[t.start:t.end] for t in _dataset_tokens(toks))
        pre = (a.query[:a.prologue.text_end] + "\nSELECT DISTINCT " + " ".join("?" + v for v in shared)
               + " " + dataset + " WHERE {" + "".join(body) + f"}} LIMIT {BIND_MAX + 1}")
        tsv = local(pre, deadline)
        lines = tsv.decode("utf-8").split("\n")[1:]
        if lines and lines[-1] == "":
            lines.pop()
        if len(lines) > BIND_MAX:
            return None
        rows = [[(f if f and not f.startswith("_:") else None) for f in line.split("\t")] for line in lines]
        return ["?" + v for v in shared], rows


def _dataset_tokens(toks: list[Token]) -> list[Token]:
    out = []
    for i, t in enumerate(toks):
        if t.is_name("FROM"):
            named = i + 1 < len(toks) and toks[i + 1].is_name("NAMED")
            out.extend(toks[i:i + (3 if named else 2)])
    return out


def _filter_end(toks: list[Token], i: int) -> int:
    """Index of the last token of the FILTER constraint starting at ``toks[i]``."""
    j = i + 1
    if j < len(toks) and toks[j].kind == PUNCT and toks[j].text == "(":
        return matching(toks, j)
    # FILTER fn(...) / FILTER NOT EXISTS {...} / FILTER EXISTS {...}
    while j < len(toks) and not (toks[j].kind == PUNCT and toks[j].text in "({"):
        j += 1
    return matching(toks, j) if j < len(toks) else len(toks) - 1


def _term(t: object, salt: str) -> str | None:
    if t is None:
        return None
    if isinstance(t, ox.BlankNode):
        return f"<urn:x-lod-service-bnode:{salt}:{t.value}>"
    if isinstance(t, (ox.NamedNode, ox.Literal)):
        return str(t)
    return None   # quoted triples are not joined


def _values(names: list[str], rows: list[list[str | None]]) -> str:
    head = "(" + " ".join(n if n.startswith("?") else "?" + n for n in names) + ")"
    body = " ".join("(" + " ".join(v if v is not None else "UNDEF" for v in row) + ")" for row in rows)
    return f"VALUES {head} {{ {body} }}"

