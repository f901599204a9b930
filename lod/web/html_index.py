"""A description's triples for its HTML page (lod.web.html), read off its N-Triples lines.

A Python object per triple (pyoxigraph's parse, then attribute reads) cost more than the rest of the
page. The lines are what the describer hands over (lod.describe, lod.nt_lines), sorted: one subject's
statements are one run of lines, and a linked person's or type's run is the same on every page that
names it. So each run is parsed, and its embedded JSON-LD node written, once per process
(:data:`_RUNS`); a page joins them. Objects stay N-Triples text, decoded (:func:`term`) when shown.

The lines are pyoxigraph's (``str(triple)``): IRIs unescaped, a literal ``"..."`` with ``@lang`` or
``^^<datatype>`` after it, every control character escaped (no line break inside a line).
"""

from __future__ import annotations

import re
from collections import OrderedDict
from itertools import groupby
from json.decoder import scanstring as _scan
from json.encoder import encode_basestring as _js
from operator import itemgetter
from typing import Any, Self

from lod import nt_lines
from lod.describe import Description
from lod.render import RDF_TYPE, XSD_STRING, compact

_RUN = re.compile(r"^((?!<<)(<[^>]*>|_:\S+) [^\n]*\n(?:\2 [^\n]*\n)*)", re.M)     # one subject's lines
# subject IRI or blank node label, predicate, object (no quoted triple: not RDF 1.1, never in our data)
_LINE = re.compile(r"^(?!<<)(?:<([^>]*)>|_:(\S+)) <([^>]*)> (?!<<)(.*) \.$", re.M)
_NOT_JSON = re.compile(r"\\[uU']")     # escapes _json cannot copy as they are
_NOT_JSON_TEXT = re.compile(r"\\[U']")  # escapes JSON has not
_ESCAPE = re.compile(r"\\(?:u([0-9A-Fa-f]{4})|U([0-9A-Fa-f]{8})|(.))")
_ECHAR = {"t": "\t", "b": "\b", "n": "\n", "r": "\r", "f": "\f", '"': '"', "'": "'", "\\": "\\"}
_MAX_RUNS, _MAX_PROBATION, _MAX_TERMS = 10_000, 2_000, 5_000    # entries kept (a cache is cleared when full)

# subject, its JSON-LD id ("_:b" for a blank node), {predicate: objects}, JSON-LD node, what pages derived
# from these statements alone
Run = tuple[str, str, dict[str, list[str]], str, dict[str, Any]]
_TERMS: dict[str, tuple[str, str | None]] = {}
_RUNS: dict[str, Run] = {}
_IDS: dict[str, tuple[str, str]] = {}
_KEYS: dict[str, tuple[str, str]] = {}
_SEEN_TERMS: set[int] = set()
_PROBATION: OrderedDict[str, Run] = OrderedDict()


def _unescape(text: str) -> str:
    """The text of an N-Triples string. Its escapes are JSON's (pyoxigraph writes \\uXXXX, never \\U or
    \\'), which the json module decodes in C."""
    if "\\" not in text:
        return text
    if _NOT_JSON_TEXT.search(text) is None:
        try:
            return _scan('"' + text + '"', 1)[0]
        except ValueError:      # a raw control character: not pyoxigraph's
            pass
    return _ESCAPE.sub(lambda m: chr(int(m[1] or m[2], 16)) if m[1] or m[2] else _ECHAR[m[3]], text)


def _keep(cache: dict[str, Any], seen: set[int], key: str, value: Any) -> None:
    """Keep what recurs: on its second sight (a document's own statements are seen once; a person's name
    on every page that names them), and not long texts."""
    if len(key) > 4000:
        return
    h = hash(key)
    if h not in seen:
        if len(seen) >= 4 * _MAX_TERMS:
            seen.clear()
        seen.add(h)
    else:
        if len(cache) >= _MAX_TERMS:
            cache.clear()
        cache[key] = value


def term(nt: str) -> tuple[str, str | None]:
    """An N-Triples object's value and language (None but for a language-tagged literal)."""
    found = _TERMS.get(nt)
    if found is None:
        if nt[0] != '"':
            found = (nt[1:-1] if nt[0] == "<" else nt[2:], None)
        else:
            q = nt.rindex('"')
            found = (_unescape(nt[1:q]), nt[q + 2:] if nt[q + 1:q + 2] == "@" else None)
        _keep(_TERMS, _SEEN_TERMS, nt, found)
    return found


def _json(raw: str) -> str:
    """The JSON string of an N-Triples string's text, ``raw`` as pyoxigraph wrote it. It escapes what JSON
    escapes the same way (\\" \\\\ \\n \\r \\t \\b \\f), and every other control character as \\u00XX
    where JSON writes \\u00xx: a text without \\u (nor \\U, \\') is JSON as it is."""
    if "\\" not in raw or _NOT_JSON.search(raw) is None:
        return '"' + raw + '"'
    return _js(_unescape(raw))


def _value(nt: str) -> tuple[str, str]:
    """An object's compact JSON-LD value as lod.render writes it, and that value's json.dumps(sort_keys=True)
    text: the order lod.render.jsonld_object gives a property's values."""
    if nt[0] != '"':
        i = _json(nt[1:-1]) if nt[0] == "<" else _js(nt)     # an IRI has no quote, backslash or control
        found = _IDS[nt] = ('{"@id":' + i + "}", '{"@id": ' + i + "}")    # types, people: on many pages
        if len(_IDS) > _MAX_RUNS:
            _IDS.clear()
        return found
    q = nt.rindex('"')
    v, suffix = _json(nt[1:q]), nt[q + 1:]
    if suffix.startswith("@"):
        lang = _js(suffix[1:])
        return ('{"@value":' + v + ',"@language":' + lang + "}",
                '{"@language": ' + lang + ', "@value": ' + v + "}")
    if not suffix or suffix == f"^^<{XSD_STRING}>":
        return v, v
    t = _js(compact(suffix[3:-1]))
    return '{"@value":' + v + ',"@type":' + t + "}", '{"@type": ' + t + ', "@value": ' + v + "}"


def _key(p: str) -> tuple[str, str]:
    """A predicate's JSON-LD property name (compact IRI) and its JSON ',"name":'."""
    found = _KEYS.get(p)
    if found is None:
        name = compact(p)
        found = _KEYS[p] = (name, "," + _js(name) + ":")
        if len(_KEYS) > _MAX_RUNS:
            _KEYS.clear()
    return found


def _node(sid: str, by_p: dict[str, list[str]]) -> str:
    """The subject's node of lod.render.jsonld_object, written as embed_json writes it (compact)."""
    out = '{"@id":' + _js(sid)
    props: list[tuple[tuple[str, str], list[str]]] = []
    for p, objs in by_p.items():
        if p == RDF_TYPE:
            types = sorted({compact(o[1:-1]) for o in objs if o[0] == "<"})
            if types:
                out += ',"@type":' + (_js(types[0]) if len(types) == 1
                                      else "[" + ",".join(map(_js, types)) + "]")
            objs = [o for o in objs if o[0] != "<"]
            if not objs:
                continue
        props.append((_key(p), objs))
    props.sort(key=itemgetter(0))
    for i in range(len(props) - 1, 0, -1):      # two predicates with one name (never, in our namespaces)
        if props[i][0][0] == props[i - 1][0][0]:
            props[i - 1] = (props[i - 1][0], props[i - 1][1] + props.pop(i)[1])
    for (_, name), objs in props:
        if len(objs) == 1:
            out += name + (_IDS.get(objs[0]) or _value(objs[0]))[0]
        else:
            vals = sorted([_IDS.get(o) or _value(o) for o in objs], key=itemgetter(1))
            out += name + "[" + ",".join([v[0] for v in vals]) + "]"
    return _embeddable(out + "}")


def _embeddable(json: str) -> str:
    """As lod.web.html.embed_json: no '<', '>' or '&' that could end the <script> element."""
    return json.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _run(lines: str) -> Run:
    """One subject's lines, parsed, with its JSON-LD node: kept once seen twice (a person's lines recur on
    every page naming them; a document's own lines come once and pass through the short probation)."""
    found = _PROBATION.pop(lines, None)
    if found is None:
        rows = _LINE.findall(lines)
        if len(rows) != lines.count("\n"):
            raise ValueError(f"not N-Triples lines: {lines[:200]!r}")
        s = rows[0][0] or rows[0][1]
        sid = "_:" + s if rows[0][1] else s
        by_p = {p: [r[3] for r in group] for p, group in groupby(rows, itemgetter(2))}
        found = (s, sid, by_p, _node(sid, by_p), {})
        if len(lines) <= 4000:
            _PROBATION[lines] = found
            if len(_PROBATION) > _MAX_PROBATION:
                _PROBATION.popitem(last=False)
    else:
        if len(_RUNS) >= _MAX_RUNS:
            _RUNS.clear()
        _RUNS[lines] = found
    return found


class Lines:
    """The description's triples by subject and predicate (objects as N-Triples text, in N-Triples order:
    the order the page shows them in). Shared with later pages: never change what it returns."""

    def __init__(self, nt: bytes) -> None:
        lines = nt.decode().split("\n")
        lines.sort()            # RDF has no order: the page is the same whatever order the store returns
        del lines[:lines.count("")]
        self.nt = "\n".join(lines) + "\n"
        texts = [text for text, _ in _RUN.findall(self.nt)]
        if lines and sum(map(len, texts)) != len(self.nt):
            raise ValueError("not N-Triples lines")
        self.runs: dict[str, Run] = {run[0]: run for run in [_RUNS.get(t) or _run(t) for t in texts]}
        if len(self.runs) != len(texts):        # an IRI and a blank node label alike: not pyoxigraph's lines
            raise ValueError("a subject twice")
        self._memos: dict[str, dict[str, Any]] = {}
        self._inverse: dict[str, dict[str, list[str]]] = {}

    @classmethod
    def of(cls, desc: Description) -> Self:
        return cls(desc.nt if desc.nt is not None else nt_lines.of(desc.triples))

    def memo(self, s: str) -> dict[str, Any]:
        """A place for what is derived from ``s``'s statements alone (its label, its link): kept with them,
        so a page reuses what an earlier page naming ``s`` worked out."""
        run = self.runs.get(s)
        return run[4] if run is not None else self._memos.setdefault(s, {})

    def predicates(self, s: str) -> dict[str, list[str]]:
        run = self.runs.get(s)
        return run[2] if run is not None else {}

    def objs(self, s: str, p: str) -> list[str]:
        run = self.runs.get(s)
        return run[2].get(p, []) if run is not None else []

    def iris(self, s: str, p: str) -> list[str]:
        return [o[1:-1] for o in self.objs(s, p) if o[0] == "<"]

    def literals(self, s: str, *preds: str) -> list[str]:
        return [term(o)[0] for p in preds for o in self.objs(s, p) if o[0] == '"']

    def subjects(self, p: str, o: str) -> list[str]:
        """Subjects of (?, p, <o>), in order; the inverse of ``p`` is made when first asked for."""
        inverse = self._inverse.get(p)
        if inverse is None:
            inverse = self._inverse[p] = {}
            for s, _, by_p, _, _ in self.runs.values():
                for obj in by_p.get(p, ()):
                    if obj[0] == "<":
                        inverse.setdefault(obj[1:-1], []).append(s)
            for subjects in inverse.values():
                subjects.sort()
        return inverse.get(o, [])

    def text(self, s: str, *preds: str) -> str:
        """First literal of the first predicate that has one (English or untagged preferred)."""
        for p in preds:
            lits = [term(o) for o in self.objs(s, p) if o[0] == '"']
            if len(lits) == 1:
                return lits[0][0]
            if lits:
                return min(lits, key=lambda lit: (lit[1] not in (None, "en"), lit[0]))[0]
        return ""

    def jsonld(self, context: str) -> str:
        """``lod.web.html.embed_json(lod.render.jsonld_object(triples, context))``: the same bytes."""
        nodes = sorted([(run[1], run[3]) for run in self.runs.values()])     # embeddable already
        head = _embeddable('{"@context":' + _js(context) + ',"@graph":[')
        return head + ",".join([node for _, node in nodes]) + "]}"
