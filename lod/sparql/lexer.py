"""A small, total SPARQL tokenizer: enough structure for static checks and SERVICE rewriting.

Why not rdflib's parser: it costs tens of milliseconds per query (pyparsing), more than most of our
queries take to evaluate. The tokenizer only has to be exact about the things that hide keywords
(strings, IRIs, comments, prefixed names, variables) and about braces; full syntax checking is left
to Oxigraph's parser, which runs anyway. It never fails on valid SPARQL; on input it cannot
tokenize (an unterminated string) it raises :class:`LexError` with the line and column.

Hostile input (a megabyte of brackets or of short tokens) is made cheap to refuse: one compiled
pattern run by ``finditer`` (no per-token ``match`` call), tokens are plain tuples, and the optional
limits of :func:`tokenize` stop it at the first token past a limit (docs/sparql.md, "Limits").
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from itertools import islice
from typing import NamedTuple
from urllib.parse import urljoin

IRI, STRING, VAR, PNAME, NAME, NUM, PUNCT, LANG, BNODE = (
    "IRI", "STRING", "VAR", "PNAME", "NAME", "NUM", "PUNCT", "LANG", "BNODE")

_PN_CHARS_BASE = "A-Za-z\u00C0-\u00D6\u00D8-\u00F6\u00F8-\u02FF\u0370-\u037D\u037F-\u1FFF\u200C-\u200D" \
                 "\u2070-\u218F\u2C00-\u2FEF\u3001-\uD7FF\uF900-\uFDCF\uFDF0-\uFFFD\U00010000-\U000EFFFF"
_PN_CHARS = _PN_CHARS_BASE + "_\\-0-9\u00B7\u0300-\u036F\u203F-\u2040"

# PN_LOCAL_ESC: a backslash escapes these in the local part of a prefixed name.
_LOCAL_ESC = r"""\\[_~.\-!$&'()*+,;=/?#@%]"""
# Each match is whitespace and comments (an atomic group: never backtracked into), then one token or
# the end of the text; the number of the token's group says its kind (_KINDS). Kept linear in the
# text: a failed IRI attempt stops at the next '<', an unterminated string ends tokenizing, and a word
# (a prefixed name, or letters, digits and dots without a colon) is one match, split afterwards; an
# earlier pattern re-scanned the rest of ``a.a.a...`` at every dot (quadratic: tests/test_sparql_safety.py
# has that input and others). Strings use the "unrolled loop" form (a run of plain characters, then
# an escape, ...), scanned in C without an alternation per character.
_TOKEN_RE = re.compile(
    r"""
    (?>\s*(?:\#[^\n\r]*\s*)*)
    (?:
      (<(?:[^<>"{}|^`\\\x00-\x20]|\\u[0-9A-Fa-f]{4}|\\U[0-9A-Fa-f]{8})*>)
    | ('''[^'\\]*(?:(?:\\.|'(?!''))[^'\\]*)*'''
      |\"\"\"[^"\\]*(?:(?:\\.|"(?!""))[^"\\]*)*\"\"\"
      |'[^'\\\n\r]*(?:\\.[^'\\\n\r]*)*'
      |"[^"\\\n\r]*(?:\\.[^"\\\n\r]*)*")
    | ('''|\"\"\"|['"])
    | (_:[""" + _PN_CHARS + r""".]*)
    | ([?$][""" + _PN_CHARS + r"""]+)
    | ((?>[""" + _PN_CHARS_BASE + r"""][""" + _PN_CHARS + r""".]*)(?::(?:[""" + _PN_CHARS + r""":.%]+|""" + _LOCAL_ESC
    + r""")*)?)
    | (:(?:[""" + _PN_CHARS + r""":.%]+|""" + _LOCAL_ESC + r""")*)
    | (@[a-zA-Z]+(?:-[a-zA-Z0-9]+)*)
    | ([+-]?(?:\d+\.?\d*(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?))
    | ([A-Za-z_][A-Za-z0-9_]*)
    | (\^\^|&&|\|\||!=|<=|>=|.)
    | \Z
    )
    """,
    re.VERBOSE | re.DOTALL,
)
# A word without a colon that is not a plain name (``a.b``, ``x-1``, ``é``): split with the same
# rules as the main pattern, which could not match anything else inside it (except a number whose
# exponent sign lies after the word, ``é.1e+1``: not SPARQL anyway, and kept as separate tokens).
_IN_WORD_RE = re.compile(r"([+-]?(?:\d+\.?\d*(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?))|([A-Za-z_][A-Za-z0-9_]*)|(.)",
                         re.DOTALL)
_BAD, _WORD = "BAD", "WORD"
_KINDS = (None, IRI, STRING, _BAD, BNODE, VAR, _WORD, PNAME, LANG, NUM, NAME, PUNCT)
_IN_WORD_KINDS = (None, NUM, NAME, PUNCT)
_OPEN, _CLOSE, _UNARY = frozenset("({["), frozenset(")}]"), frozenset("!-+")

_UCHAR = re.compile(r"\\u([0-9A-Fa-f]{4})|\\U([0-9A-Fa-f]{8})")


class LexError(ValueError):
    """The text cannot be tokenized (e.g. an unterminated string); the message has line:column."""


class LimitExceeded(LexError):
    """A limit given to :func:`tokenize` was passed; tokenizing stopped at that token (fail fast).

    ``what`` is "tokens", "depth" (``( { [`` nested deeper than ``limit``, counted together) or
    "unary" (more than ``limit`` unary operators ``! - +`` in a row); ``where`` is "line L, column C".
    """

    def __init__(self, what: str, limit: int, where: str) -> None:
        super().__init__(f"more than {limit} ({what}) at {where}")
        self.what, self.limit, self.where = what, limit, where


class Token(NamedTuple):
    """A plain tuple: cheap to make, and a 1 MB query may hold a hundred thousand of them."""

    kind: str
    text: str
    start: int
    end: int

    def is_name(self, *words: str) -> bool:
        return self.kind == NAME and self.text.upper() in words


def iri_text(tok: Token) -> str:
    """The IRI an IRIREF token denotes, with \\uXXXX / \\UXXXXXXXX escapes decoded (as the parser does)."""
    return _UCHAR.sub(lambda m: chr(int(m.group(1) or m.group(2), 16)), tok.text[1:-1])


def _where(text: str, pos: int) -> str:
    line = text.count("\n", 0, pos) + 1
    col = pos - (text.rfind("\n", 0, pos) + 1) + 1
    return f"line {line}, column {col}"


def tokenize(text: str, *, max_tokens: int | None = None, max_depth: int | None = None,
             max_unary: int | None = None) -> list[Token]:
    """Significant tokens (no whitespace or comments), with their character offsets.

    With limits, :class:`LimitExceeded` is raised at the first token past one, so a megabyte of ``{``
    costs 129 tokens, not a million.
    """
    out: list[Token] = []
    append, make, kinds = out.append, tuple.__new__, _KINDS
    unlimited = len(text) + 1
    cap = unlimited if max_tokens is None else max_tokens
    deepest = unlimited if max_depth is None else max_depth
    longest = unlimited if max_unary is None else max_unary
    depth = run = 0
    last_unary = -2                      # index of the last unary operator token
    # One match per token, contiguous (the last alternatives match any character, or the end);
    # islice counts them in C and stops one past the cap.
    for m in islice(_TOKEN_RE.finditer(text), cap + 1):
        i = m.lastindex
        if i is None:                    # the end of the text
            break
        kind = kinds[i]
        start, end = m.span(i)
        tok = text[start:end]
        if kind == _WORD:                # a prefixed name, or a word without a colon
            if ":" in tok:
                kind = PNAME
            elif tok.isascii() and tok.isidentifier():
                kind = NAME
            else:
                for sub in islice(_IN_WORD_RE.finditer(tok), cap + 1 - len(out)):
                    k = _IN_WORD_KINDS[sub.lastindex]
                    s, e = sub.span()
                    if k == PUNCT and tok[s] == "-":    # the one unary operator a word can hold
                        run = run + 1 if last_unary == len(out) - 1 else 1
                        last_unary = len(out)
                        if run > longest:
                            raise LimitExceeded("unary", longest, _where(text, start + s))
                    append(make(Token, (k, tok[s:e], start + s, start + e)))
                if len(out) > cap:
                    break
                continue
        if kind == PUNCT:
            if tok in _OPEN:
                depth += 1
                if depth > deepest:
                    raise LimitExceeded("depth", deepest, _where(text, start))
            elif tok in _CLOSE:
                depth -= 1
            elif tok in _UNARY:
                run = run + 1 if last_unary == len(out) - 1 else 1
                last_unary = len(out)
                if run > longest:
                    raise LimitExceeded("unary", longest, _where(text, start))
        elif kind == _BAD:
            raise LexError(f"unterminated string at {_where(text, start)}")
        elif (kind == PNAME or kind == BNODE) and tok[-1] == ".":  # noqa: PLR1714
            # a prefixed name or blank node never ends with '.' (unless escaped): the dots end the triple
            kept = tok.rstrip(".")
            if kept.endswith("\\"):
                kept += "."
            append(make(Token, (kind, kept, start, start + len(kept))))
            out.extend(make(Token, (PUNCT, ".", p, p + 1)) for p in range(start + len(kept), min(end, start + cap)))
            if len(out) > cap:
                break
            continue
        append(make(Token, (kind, tok, start, end)))
    if len(out) > cap:
        raise LimitExceeded("tokens", cap, _where(text, out[cap].start))
    return out


@dataclass
class Prologue:
    base: str | None
    prefixes: dict[str, str]
    end: int          # index of the first token after the prologue
    text_end: int     # character offset where the prologue ends

    def resolve(self, tok: Token) -> str | None:
        """Absolute IRI of an IRI or prefixed-name token (None when the prefix is undeclared)."""
        if tok.kind == IRI:
            iri = iri_text(tok)
            return urljoin(self.base, iri) if self.base else iri
        if tok.kind == PNAME:
            prefix, _, local = tok.text.partition(":")
            ns = self.prefixes.get(prefix)
            if ns is None:
                return None
            return ns + re.sub(r"\\(.)", r"\1", local)
        return None


def prologue(tokens: list[Token], base: str | None = None) -> Prologue:
    """BASE and PREFIX declarations at the start of a query (later ones override earlier ones)."""
    prefixes: dict[str, str] = {}
    i = 0
    while i < len(tokens):
        t = tokens[i]
        if t.is_name("BASE") and i + 1 < len(tokens) and tokens[i + 1].kind == IRI:
            iri = iri_text(tokens[i + 1])
            base = urljoin(base, iri) if base else iri
            i += 2
        elif (t.is_name("PREFIX") and i + 2 < len(tokens) and tokens[i + 1].kind == PNAME
              and tokens[i + 1].text.endswith(":") and tokens[i + 2].kind == IRI):
            iri = iri_text(tokens[i + 2])
            prefixes[tokens[i + 1].text[:-1]] = urljoin(base, iri) if base else iri
            i += 3
        else:
            break
    text_end = tokens[i - 1].end if i else 0
    return Prologue(base, prefixes, i, text_end)


def matching(tokens: list[Token], i: int) -> int:
    """Index of the token closing the bracket at ``tokens[i]`` ({ or ( or [); len(tokens) if unclosed."""
    pairs = {"{": "}", "(": ")", "[": "]"}
    opener = tokens[i].text
    closer = pairs[opener]
    depth = 0
    for j in range(i, len(tokens)):
        t = tokens[j]
        if t.kind != PUNCT:
            continue
        if t.text == opener:
            depth += 1
        elif t.text == closer:
            depth -= 1
            if depth == 0:
                return j
    return len(tokens)


def brace_depths(tokens: list[Token]) -> list[int]:
    """Curly-brace depth before each token."""
    depths, d = [], 0
    for t in tokens:
        depths.append(d)
        if t.kind == PUNCT:
            if t.text == "{":
                d += 1
            elif t.text == "}":
                d -= 1
    return depths
