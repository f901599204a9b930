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

Also here, the query's shape (400): Oxigraph's parser and planner recurse once per nesting level and
per item of a long chain (UNION, triple patterns, ``||`` ...), and a big enough query overflows the
stack and kills the worker. Nesting, the number of tokens and those chains are limited far below the
sizes that crash (CHAINS), and checking is linear in the query, so any body is decided quickly.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from operator import itemgetter

from lod.sparql.lexer import (
    BNODE,
    IRI,
    LANG,
    NAME,
    NUM,
    PNAME,
    PUNCT,
    STRING,
    VAR,
    LexError,
    LimitExceeded,
    Prologue,
    Token,
    matching,
    prologue,
    tokenize,
)

FORMS = ("SELECT", "ASK", "CONSTRUCT", "DESCRIBE")
MAX_NESTING = 128          # brackets ({[ nested, or unary operators in a row: far beyond any real query
MAX_TOKENS = 100_000       # words, names, literals, punctuation: a 1 MB query of IRIs has ~25,000
MAX_SERVICES = 16          # SERVICE clauses: each may be a call to another server
# Words that occur in SPARQL Update and never in a query.
UPDATE_WORDS = frozenset({"INSERT", "DELETE", "LOAD", "CLEAR", "DROP", "CREATE", "ADD", "MOVE", "COPY",
                          "WITH", "USING"})


@dataclass(frozen=True)
class Chain:
    """Something Oxigraph's parser or planner handles by recursion, one level per occurrence.

    ``crash``: how many of them (alone, in one query) overflowed the 8 MB stack of a query worker,
    pyoxigraph 0.5.13 (the worker dies with SIGSEGV; measured in separate processes, see
    docs/sparql.md "Limits"); ``limit`` is at least 4x below. Counted over the whole query, not per
    chain, since one chain can continue inside another's operands.
    """

    label: str
    limit: int
    crash: int


# A UNION/OPTIONAL/MINUS/GRAPH's group is charged to the keyword (whose limit is at most the groups'
# limit, so stray keywords never buy room for more groups).
CHAINS = {
    "UNION": Chain("UNION", 1_000, 6_600),
    "OPTIONAL": Chain("OPTIONAL", 1_000, 6_600),
    "GRAPH": Chain("GRAPH", 1_000, 6_600),
    "MINUS": Chain("MINUS", 500, 2_550),
    "BIND": Chain("BIND", 500, 2_550),
    "FILTER": Chain("FILTER", 2_000, 9_250),
    "{": Chain("other group patterns { }", 2_000, 8_100),
    ".": Chain("triple patterns (counted as '.', ';', ',', '[' and twice per item of a ( ... ) list)",
               2_000, 8_100),
    "||": Chain("'||' and '&&' operators", 2_000, 9_250),
    "+": Chain("'+', '-', '*' and '/' operators (in expressions and property paths)", 1_500, 6_750),
    "|": Chain("'|' property path alternatives", 2_500, 10_500),
}
_GROUP_WORDS = ("UNION", "OPTIONAL", "GRAPH", "MINUS")
_TERM_START = frozenset({IRI, STRING, VAR, PNAME, NUM, BNODE})


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
    Every step is linear in the query's length and tokenizing stops at the first token past a limit,
    so even a hostile 1 MB body is decided in a fraction of a second.
    """
    try:
        tokens = tokenize(query, max_tokens=MAX_TOKENS, max_depth=MAX_NESTING, max_unary=MAX_NESTING)
    except LimitExceeded as exc:
        raise _too_large(exc) from None
    except LexError as exc:
        raise Rejected(400, f"SPARQL syntax error: {exc}", "syntax") from None
    # token texts -> how often; a keyword's text is only ever a NAME token's (IRIs, strings, variables
    # and prefixed names carry their <>, quotes, ? or colon), so the counts can stand for the tokens
    counts = Counter(map(itemgetter(1), tokens))
    words = {w.upper() for w in counts if w.isascii() and w.isalpha()}
    t = next((t for t in tokens if t.kind == NAME and t.text.upper() in UPDATE_WORDS), None) \
        if words & UPDATE_WORDS else None
    if t is not None:
        raise Rejected(403, f"This SPARQL endpoint is read-only: {t.text.upper()} belongs to SPARQL Update, "
                            "which is not accepted here. Send a query (SELECT, ASK, CONSTRUCT, DESCRIBE).",
                       "update")
    _chains(tokens, counts)
    pro = prologue(tokens, base)
    a = Analysis(query, tokens, pro, "")
    form_idx = next((i for i in range(pro.end, len(tokens)) if tokens[i].is_name(*FORMS)), None)
    if form_idx is not None:
        a.form = tokens[form_idx].text.upper()
    if "FROM" in words:
        _dataset_clauses(a)
    _where_group(a, form_idx)
    if "SERVICE" in words:
        n = sum(k for w, k in counts.items() if w.upper() == "SERVICE")
        if n > MAX_SERVICES:
            raise Rejected(400, f"The query has {n} SERVICE clauses; this endpoint accepts at most {MAX_SERVICES} "
                                "(each may be a call to another server).", "service")
        _services(a)
    return a


def _too_large(exc: LimitExceeded) -> Rejected:
    """The query engine's parser recurses on nesting and on unary operators; thousands of levels
    overflow its stack (the worker process dies; the hostile corpus has the cases). A token cap keeps
    the checks themselves cheap."""
    if exc.what == "depth":
        return Rejected(400, f"The query nests more than {exc.limit} levels deep (level {exc.limit + 1} opens at "
                             f"{exc.where}); this endpoint accepts at most {exc.limit}. Flatten it (fewer nested "
                             "groups, sub-queries, brackets or parentheses).", "nesting")
    if exc.what == "unary":
        return Rejected(400, f"The query chains more than {exc.limit} unary operators (! - +) in a row (at "
                             f"{exc.where}); this endpoint accepts at most {exc.limit}.", "nesting")
    return Rejected(400, f"The query has more than {exc.limit} tokens (words, names, literals and punctuation; "
                         f"token {exc.limit + 1} is at {exc.where}); this endpoint accepts at most {exc.limit}. "
                         "Split it into smaller queries.", "size")


def _chains(tokens: list[Token], counts: Counter[str]) -> None:
    """Refuse (400) more recursive constructs than the query engine survives with a wide margin.

    Each kind (CHAINS) uses up a share of one stack: n UNIONs use n/1000 of it, and so on; more than
    the whole is refused, naming what the query has and the limits.
    """
    n: Counter[str] = Counter()
    for w, k in counts.items():
        n[w.upper() if w.isascii() and w.isalpha() else w] += k
    used = {key: n[key] for key in ("UNION", "OPTIONAL", "GRAPH", "MINUS", "BIND", "FILTER")}
    used["{"] = max(0, n["{"] - sum(n[w] for w in _GROUP_WORDS))
    used["."] = _triple_patterns(tokens) if n["."] + n[";"] + n[","] + n["["] + n["("] else 0
    used["||"] = n["||"] + n["&&"]
    used["+"] = n["+"] + n["-"] + n["*"] + n["/"]
    used["|"] = n["|"]
    present = [(CHAINS[key], k) for key, k in used.items() if k]
    if sum(k / c.limit for c, k in present) <= 1:
        return
    over = [(c, k) for c, k in present if k > c.limit]
    if len(over) == 1:
        c, k = over[0]
        what = f"has {k} {c.label}; this endpoint accepts at most {c.limit}"
    else:
        listed = ", ".join(f"{k} {c.label} (at most {c.limit})" for c, k in present)
        what = (f"has {listed}: these share one limit, each using its count divided by its maximum, and "
                "together they use more than all of it")
    raise Rejected(400, f"The query {what}. The query engine handles each of them by recursion and would run out "
                        "of stack. Split the query, or use VALUES or IN (...) for long lists of alternatives.",
                   "chain")


def _triple_patterns(tokens: list[Token]) -> int:
    """About how many triple patterns the query's groups hold: '.', ';' and ',' between triples
    (not the commas of function arguments or IN lists), each '[', and two per item of an RDF
    collection ``( a b c )`` (terms side by side right inside parentheses; an expression puts
    operators or commas between them, and VALUES rows are data, not collections)."""
    count, stack, values, skip = 0, [], 0, False
    prev_end = False
    for t in tokens:
        kind, text = t.kind, t.text
        inner = stack[-1] if stack else ""
        if kind == PUNCT:
            if text in ".;," and inner != "(":
                count += 1
            elif text in "([" and prev_end and inner == "(" and not (skip or values):
                count += 2                       # a nested list or [ ] as a list item
            if text in "({[":
                count += text == "["
                stack.append(text)
                if text == "{" and skip:         # VALUES ... { data }
                    skip, values = False, len(stack)
            elif text in ")}]":
                if stack:
                    stack.pop()
                if values and len(stack) < values:
                    values = 0
            prev_end = text in ")]"
            continue
        term = kind in _TERM_START or (kind == NAME and text.lower() in ("true", "false"))
        if term and prev_end and inner == "(" and not (skip or values):
            count += 2
        if kind == NAME and text.upper() == "VALUES":
            skip = True                          # its variables, up to the data block
        prev_end = term or kind == LANG
    return count


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
    """The first top-level group that is neither a CONSTRUCT template nor a VALUES block."""
    toks = a.tokens
    i = 0
    while i < len(toks):
        if not (toks[i].kind == PUNCT and toks[i].text == "{"):
            i += 1
            continue
        open_, close = i, matching(toks, i)
        i = close + 1
        if form_idx is not None and a.form == "CONSTRUCT" and open_ == form_idx + 1:
            continue   # the CONSTRUCT template
        prev = toks[open_ - 1] if open_ else None
        if prev is not None and (prev.kind == VAR and open_ >= 2 and toks[open_ - 2].is_name("VALUES")):
            continue
        if prev is not None and prev.kind == PUNCT and prev.text == ")":
            k = open_ - 2          # VALUES ( ?a ?b ) {: only variables between the parentheses (a walk
            while k >= 0 and toks[k].kind == VAR:   # over anything else would be quadratic on hostile input)
                k -= 1
            if k >= 1 and toks[k].kind == PUNCT and toks[k].text == "(" and toks[k - 1].is_name("VALUES"):
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
