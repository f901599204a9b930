"""Finding names in running text fast: one trie-shaped regular expression over all spellings.

A trie-shaped pattern (shared prefixes merged, longer continuations tried first) lets the regex
engine test each text position against all names at once, instead of one alternative per name.
Rules: whole words only; the longest spelling wins; a one-word spelling ("Stalin", "CCP") must be
written capitalised (all capitals for acronyms), so "marx" in lower case or "Mao" inside
"Mao-Lin" do not count unless the authority lists that spelling; a spelling shared by two
entities is ambiguous and ignored. CJK spellings match without word boundaries.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]")
_APOS = "'’ʼ"
_SPACE = object()
_QUOTE = object()


def _norm(text: str) -> str:
    t = " ".join(text.lower().split())
    for a in _APOS[1:]:
        t = t.replace(a, "'")
    return t


class Matcher:
    def __init__(self, forms: dict[str, Iterable[str]]) -> None:
        owners: dict[str, set[str]] = {}
        original: dict[str, str] = {}
        for ident, spellings in forms.items():
            for s in spellings:
                k = _norm(s)
                if k:
                    owners.setdefault(k, set()).add(ident)
                    original.setdefault(k, " ".join(s.split()))
        self.lookup = {k: next(iter(ids)) for k, ids in owners.items() if len(ids) == 1}
        self.ambiguous = sorted(k for k, ids in owners.items() if len(ids) > 1)
        # case rule for one-word spellings: "upper" (acronyms) or "cap" (names)
        self.case: dict[str, str] = {}
        for k in self.lookup:
            if " " not in k:
                form = original[k]
                self.case[k] = "upper" if form.isupper() and len(form) > 1 else "cap"
        words = [k for k in self.lookup if not _CJK.search(k)]
        cjk = [k for k in self.lookup if _CJK.search(k)]
        self._words = re.compile(r"(?<!\w)" + _trie(words) + r"(?!\w)") if words else None
        self._words_i = re.compile(self._words.pattern, re.I) if words else None
        self._cjk = re.compile(_trie(cjk)) if cjk else None

    def find(self, text: str) -> list[tuple[str, int, int]]:
        """(entity id, start, end) for each name in text, in text order, never overlapping."""
        out: list[tuple[str, int, int]] = []
        if self._words is not None:
            low = text.lower()
            if len(low) == len(text):            # same offsets: match the lower-cased text
                matches = self._words.finditer(low)
            else:                                 # rare: lower() changed lengths ("İ")
                matches = self._words_i.finditer(text)
            for m in matches:
                k = _norm(m.group())
                rule = self.case.get(k)
                written = text[m.start():m.end()]
                if rule == "upper" and not written.isupper():
                    continue
                if rule == "cap" and not written[:1].isupper():
                    continue
                out.append((self.lookup[k], m.start(), m.end()))
        if self._cjk is not None:
            taken = [(s, e) for _, s, e in out]
            for m in self._cjk.finditer(text):
                if not any(s < m.end() and m.start() < e for s, e in taken):
                    out.append((self.lookup[_norm(m.group())], m.start(), m.end()))
            out.sort(key=lambda t: t[1])
        return out


def _tokens(form: str) -> list[object]:
    out: list[object] = []
    for c in form:
        if c == " ":
            out.append(_SPACE)
        elif c == "'":
            out.append(_QUOTE)
        else:
            out.append(c)
    return out


def _trie(forms: list[str]) -> str:
    root: dict = {}
    for f in forms:
        node = root
        for tok in _tokens(f):
            node = node.setdefault(tok, {})
        node[None] = {}
    return _pattern(root)


def _atom(tok: object) -> str:
    if tok is _SPACE:
        return r"\s+"
    if tok is _QUOTE:
        return "[" + _APOS + "]"
    return re.escape(tok)  # type: ignore[arg-type]


def _pattern(node: dict) -> str:
    terminal = None in node
    alts = [_atom(tok) + _pattern(child) for tok, child in
            sorted(((t, c) for t, c in node.items() if t is not None), key=lambda tc: str(tc[0]))]
    if not alts:
        return ""
    if len(alts) == 1 and not terminal:
        return alts[0]
    return "(?:" + "|".join(alts) + ")" + ("?" if terminal else "")
