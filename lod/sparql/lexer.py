"""A small, total SPARQL tokenizer: enough structure for static checks and SERVICE rewriting.

Why not rdflib's parser: it costs tens of milliseconds per query (pyparsing), more than most of our
queries take to evaluate. The tokenizer only has to be exact about the things that hide keywords
(strings, IRIs, comments, prefixed names, variables) and about braces; full syntax checking is left
to Oxigraph's parser, which runs anyway. It never fails on valid SPARQL; on input it cannot
tokenize (an unterminated string) it raises :class:`LexError` with the line and column.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urljoin

IRI, STRING, VAR, PNAME, NAME, NUM, PUNCT, LANG, BNODE = (
    "IRI", "STRING", "VAR", "PNAME", "NAME", "NUM", "PUNCT", "LANG", "BNODE")

_PN_CHARS_BASE = "A-Za-z\u00C0-\u00D6\u00D8-\u00F6\u00F8-\u02FF\u0370-\u037D\u037F-\u1FFF\u200C-\u200D" \
                 "\u2070-\u218F\u2C00-\u2FEF\u3001-\uD7FF\uF900-\uFDCF\uFDF0-\uFFFD\U00010000-\U000EFFFF"
_PN_CHARS = _PN_CHARS_BASE + "_\\-0-9\u00B7\u0300-\u036F\u203F-\u2040"

_TOKEN_RE = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<comment>\#[^\n\r]*)
  | (?P<iri><(?:[^<>"{}|^`\\\x00-\x20]|\\u[0-9A-Fa-f]{4}|\\U[0-9A-Fa-f]{8})*>)
  | (?P<lstring>'''(?:[^'\\]|\\.|'(?!''))*'''|\"\"\"(?:[^"\\]|\\.|"(?!""))*\"\"\")
  | (?P<string>'(?:[^'\\\n\r]|\\.)*'|"(?:[^"\\\n\r]|\\.)*")
  | (?P<badstring>'''|\"\"\"|['"])
  | (?P<bnode>_:[""" + _PN_CHARS + r""".]*)
  | (?P<var>[?$][""" + _PN_CHARS + r"""]+)
  | (?P<pname>(?:[""" + _PN_CHARS_BASE + r"""][""" + _PN_CHARS + r""".]*)?:(?:[""" + _PN_CHARS + r""":.%\\]|%[0-9A-Fa-f]{2}|\\.)*)
  | (?P<lang>@[a-zA-Z]+(?:-[a-zA-Z0-9]+)*)
  | (?P<num>[+-]?(?:\d+\.?\d*(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?))
  | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<punct>\^\^|&&|\|\||!=|<=|>=|.)
    """,
    re.VERBOSE | re.DOTALL,
)


_UCHAR = re.compile(r"\\u([0-9A-Fa-f]{4})|\\U([0-9A-Fa-f]{8})")


def iri_text(tok: Token) -> str:
    """The IRI an IRIREF token denotes, with \\uXXXX / \\UXXXXXXXX escapes decoded (as the parser does)."""
    return _UCHAR.sub(lambda m: chr(int(m.group(1) or m.group(2), 16)), tok.text[1:-1])


class LexError(ValueError):
    """The text cannot be tokenized (e.g. an unterminated string); the message has line:column."""


@dataclass(frozen=True, slots=True)
class Token:
    kind: str
    text: str
    start: int
    end: int

    def is_name(self, *words: str) -> bool:
        return self.kind == NAME and self.text.upper() in words


def _where(text: str, pos: int) -> str:
    line = text.count("\n", 0, pos) + 1
    col = pos - (text.rfind("\n", 0, pos) + 1) + 1
    return f"line {line}, column {col}"


def tokenize(text: str) -> list[Token]:
    """Significant tokens (no whitespace or comments), with their character offsets."""
    out: list[Token] = []
    pos, n = 0, len(text)
    match = _TOKEN_RE.match
    while pos < n:
        m = match(text, pos)
        assert m is not None  # the last alternative matches any character
        kind = m.lastgroup
        end = m.end()
        if kind == "badstring":
            raise LexError(f"unterminated string at {_where(text, pos)}")
        if kind in ("pname", "bnode"):
            # a prefixed name never ends with '.', that dot ends the triple
            tok = m.group()
            while tok.endswith(".") and not tok.endswith("\\."):
                tok = tok[:-1]
            end = pos + len(tok)
            out.append(Token(PNAME if kind == "pname" else BNODE, tok, pos, end))
        elif kind not in ("ws", "comment"):
            out.append(Token({"iri": IRI, "lstring": STRING, "string": STRING, "var": VAR, "lang": LANG,
                              "num": NUM, "name": NAME, "punct": PUNCT}[kind], m.group(), pos, end))
        pos = end
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
