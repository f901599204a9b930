"""Static checks that run BEFORE any evaluation: the endpoint is read-only and fetches nothing it is told to.

Three layers keep a request from turning the server against its host (docs/sparql.md, "Safety"):

1. here, on the query text: SPARQL Update is refused (403); ``FROM``/``FROM NAMED`` must name graphs of
   this dataset (400; nothing is ever fetched to fill a graph); ``SERVICE`` must name an allow-listed
   endpoint (403), and only our own code (lod.sparql.federation) calls it;
2. queries are evaluated only by pyoxigraph, whose ``query()`` accepts no update and which treats
   FROM IRIs as names of stored graphs, never as URLs;
3. the worker processes that evaluate run under a seccomp filter that denies Internet sockets
   (lod.sparql.sandbox), so even a SERVICE clause slipping past layer 1 cannot reach the network:
   pyoxigraph 0.5.13 *would* otherwise call SERVICE endpoints itself.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from lod.sparql.lexer import (
    IRI,
    NAME,
    PNAME,
    PUNCT,
    VAR,
    LexError,
    Prologue,
    Token,
    matching,
    prologue,
    tokenize,
)

FORMS = ("SELECT", "ASK", "CONSTRUCT", "DESCRIBE")
MAX_NESTING = 128          # brackets ({[ nested, or unary operators in a row: far beyond any real query
# Words that occur in SPARQL Update and never in a query.
UPDATE_WORDS = frozenset({"INSERT", "DELETE", "LOAD", "CLEAR", "DROP", "CREATE", "ADD", "MOVE", "COPY",
                          "WITH", "USING"})


class Rejected(Exception):
    """A request refused before evaluation: HTTP status, a message for people, a short kind for the log."""

    def __init__(self, status: int, message: str, kind: str) -> None:
        super().__init__(message)
        self.status, self.message, self.kind = status, message, kind


@dataclass
class ServiceClause:
    endpoint: str          # absolute IRI
    silent: bool
    start: int             # character offsets of the whole clause (SERVICE ... })
    end: int
    body: str              # the group pattern's text, without its braces
    tok_start: int         # token indexes: SERVICE keyword and the closing brace
    tok_end: int
    in_where: bool         # a direct member of the query's WHERE group (bind join possible)


@dataclass
class Analysis:
    query: str
    tokens: list[Token]
    prologue: Prologue
    form: str                                  # SELECT | ASK | CONSTRUCT | DESCRIBE | "" (syntax error ahead)
    from_default: list[str] = field(default_factory=list)
    from_named: list[str] = field(default_factory=list)
    services: list[ServiceClause] = field(default_factory=list)
    where: tuple[int, int] | None = None       # token indexes of the WHERE group's braces

    @property
    def has_dataset_clause(self) -> bool:
        return bool(self.from_default or self.from_named)


def analyse(query: str, base: str | None = None) -> Analysis:
    """Tokenize and locate the parts the checks need; refuses update operations (403) outright.

    ``base``: the IRI relative IRIs resolve against when the query has no BASE (the endpoint's URL,
    as the evaluation uses), so a relative FROM or SERVICE IRI is checked as what it will mean.
    """
    try:
        tokens = tokenize(query)
    except LexError as exc:
        raise Rejected(400, f"SPARQL syntax error: {exc}", "syntax") from None
    for t in tokens:
        if t.kind == NAME and t.text.upper() in UPDATE_WORDS:
            raise Rejected(403, f"This SPARQL endpoint is read-only: {t.text.upper()} belongs to SPARQL Update, "
                                "which is not accepted here. Send a query (SELECT, ASK, CONSTRUCT, DESCRIBE).",
                           "update")
    _nesting(tokens)
    pro = prologue(tokens, base)
    a = Analysis(query, tokens, pro, "")
    form_idx = next((i for i in range(pro.end, len(tokens)) if tokens[i].is_name(*FORMS)), None)
    if form_idx is not None:
        a.form = tokens[form_idx].text.upper()
    _dataset_clauses(a)
    _where_group(a, form_idx)
    _services(a)
    return a


def _nesting(tokens: list[Token]) -> None:
    """Refuse (400) groups/brackets nested deeper than MAX_NESTING, or as long a run of unary operators:
    the query engine's parser recurses on both, and thousands of levels overflow its stack (the worker
    process dies; the hostile corpus has the cases)."""
    depth = deepest = run = longest = 0
    for t in tokens:
        if t.kind != PUNCT:
            run = 0
            continue
        if t.text in "({[":
            depth += 1
            deepest = max(deepest, depth)
        elif t.text in ")}]":
            depth -= 1
        run = run + 1 if t.text in ("!", "-", "+") else 0
        longest = max(longest, run)
    if deepest > MAX_NESTING or longest > MAX_NESTING:
        what = f"nests {deepest} levels deep" if deepest > MAX_NESTING else f"chains {longest} unary operators"
        raise Rejected(400, f"The query {what}; this endpoint accepts at most {MAX_NESTING}. "
                            "Flatten it (fewer nested groups, sub-queries or parentheses).", "nesting")


def _dataset_clauses(a: Analysis) -> None:
    toks = a.tokens
    for i, t in enumerate(toks):
        if not t.is_name("FROM"):
            continue
        named = i + 1 < len(toks) and toks[i + 1].is_name("NAMED")
        j = i + 2 if named else i + 1
        if j < len(toks) and toks[j].kind in (IRI, PNAME):
            iri = a.prologue.resolve(toks[j])
            if iri is not None:
                (a.from_named if named else a.from_default).append(iri)


def _where_group(a: Analysis, form_idx: int | None) -> None:
    toks = a.tokens
    i, depth_zero_groups = 0, []
    while i < len(toks):
        if toks[i].kind == PUNCT and toks[i].text == "{":
            close = matching(toks, i)
            depth_zero_groups.append((i, close))
            i = close + 1
        else:
            i += 1
    for open_, close in depth_zero_groups:
        if form_idx is not None and a.form == "CONSTRUCT" and open_ == form_idx + 1:
            continue   # the CONSTRUCT template
        prev = toks[open_ - 1] if open_ else None
        if prev is not None and (prev.kind == VAR and open_ >= 2 and toks[open_ - 2].is_name("VALUES")):
            continue
        if prev is not None and prev.kind == PUNCT and prev.text == ")":
            k = open_ - 1
            while k >= 0 and not (toks[k].kind == PUNCT and toks[k].text == "("):
                k -= 1
            if k >= 1 and toks[k - 1].is_name("VALUES"):
                continue
        a.where = (open_, close)
        return


def _services(a: Analysis) -> None:
    toks = a.tokens
    depth = 0
    i = 0
    while i < len(toks):
        t = toks[i]
        if t.kind == PUNCT and t.text in "{}":
            depth += 1 if t.text == "{" else -1
        if not t.is_name("SERVICE"):
            i += 1
            continue
        j = i + 1
        silent = j < len(toks) and toks[j].is_name("SILENT")
        if silent:
            j += 1
        if j >= len(toks):
            raise Rejected(400, "SPARQL syntax error: the query ends after SERVICE", "syntax")
        target = toks[j]
        if target.kind == VAR:
            raise Rejected(403, f"SERVICE {target.text}: the endpoint of a SERVICE must be an IRI on this "
                                "server's allow-list, not a variable.", "service")
        endpoint = a.prologue.resolve(target)
        # Anything we cannot read exactly is refused: the engine must never see a SERVICE we did not check.
        if endpoint is None:
            raise Rejected(400, f"SERVICE must be followed by an IRI (or a declared prefixed name); found "
                                f"{target.text[:80]!r}", "service")
        if j + 1 >= len(toks) or not (toks[j + 1].kind == PUNCT and toks[j + 1].text == "{"):
            raise Rejected(400, f"SERVICE <{endpoint}> must be followed by a group pattern {{ ... }}", "service")
        close = matching(toks, j + 1)
        if close >= len(toks):
            raise Rejected(400, f"SERVICE <{endpoint}>: the group pattern is not closed", "syntax")
        in_where = a.where is not None and depth == 1 and a.where[0] < i < a.where[1]
        a.services.append(ServiceClause(
            endpoint=endpoint, silent=silent, start=t.start, end=toks[close].end,
            body=a.query[toks[j + 1].end:toks[close].start], tok_start=i, tok_end=close, in_where=in_where))
        i = close + 1   # SERVICE nested inside is the remote endpoint's business, sent verbatim


def _norm(url: str) -> str:
    return url.rstrip("/")


def check(a: Analysis, *, allowlist: Iterable[str], has_graph: Callable[[str], bool],
          protocol_graphs: Iterable[str] = ()) -> None:
    """Refuse (raise Rejected) what the endpoint will not do; returns quietly when the query may run."""
    allowed = {_norm(u) for u in allowlist}
    for s in a.services:
        if _norm(s.endpoint) not in allowed:
            listed = ", ".join(sorted(allowed)) or "(none)"
            raise Rejected(403, f"SERVICE <{s.endpoint}> is not on this endpoint's allow-list; federated "
                                f"queries may call: {listed}.", "service")
        if not s.endpoint.lower().startswith(("http://", "https://")):
            raise Rejected(403, f"SERVICE <{s.endpoint}>: only http(s) endpoints can be called.", "service")
    for kw, graphs in (("FROM", a.from_default), ("FROM NAMED", a.from_named)):
        for g in graphs:
            if not has_graph(g):
                raise Rejected(400, f"{kw} <{g}> is not a graph of this dataset. This endpoint never fetches "
                                    "graphs from the Web or from files; list ours with "
                                    "SELECT DISTINCT ?g WHERE { GRAPH ?g {} }.", "dataset")
    for g in protocol_graphs:
        if not has_graph(g):
            raise Rejected(400, f"graph <{g}> (default-graph-uri / named-graph-uri) is not a graph of this "
                                "dataset; nothing is fetched to fill it.", "dataset")
