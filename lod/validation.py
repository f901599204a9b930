"""SHACL validation of record graphs: results as data, a fast path, and pyshacl as the reference.

pyshacl on 100k record graphs would take hours, so the shapes in ``shapes/`` are compiled once into
plain Python checks over a record's quads (:class:`CompiledShapes`). The compiler understands only
the SHACL features the shapes use and refuses any other, so a new constraint in ``shapes/`` cannot be
silently ignored; tests/test_validation.py proves both paths give the same results.
"""

from __future__ import annotations

import functools
import re
import warnings
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from lod.mapping import spo
from lod.mapping.namespaces import RDF, RDFS, SH, XSD

SHAPES_DIR = Path(__file__).resolve().parent.parent / "shapes"
RDF_TYPE = RDF + "type"
SUBCLASS = RDFS + "subClassOf"
LANG_STRING = RDF + "langString"


@dataclass(frozen=True, order=True)
class ValidationResult:
    """One SHACL result, as a curator reads it: which record, which node, which property, what is wrong."""

    record: str
    focus: str
    path: str
    message: str
    severity: str           # "Violation" | "Warning" | "Info"
    value: str = ""         # the offending value in N-Triples form, when there is one
    component: str = ""     # SHACL constraint component local name, e.g. "MinCountConstraintComponent"

    @property
    def blocking(self) -> bool:
        return self.severity == "Violation"

    def located(self) -> str:
        where = f"record {self.record}, {self.focus}" + (f", {self.path}" if self.path else "")
        return f"{where}: {self.severity}: {self.message}"


class ShapeError(ValueError):
    """shapes/ uses a SHACL feature the fast validator does not implement."""


# ------------------------------------------------------------------------------ compiling shapes
_SUPPORTED = {SH + x for x in (
    "path", "minCount", "maxCount", "datatype", "class", "nodeKind", "pattern", "flags", "in", "or",
    "lessThanOrEquals", "minLength", "severity", "message", "name", "description")}
_NODE_SHAPE_KEYS = {RDF_TYPE, SH + "targetClass", SH + "targetObjectsOf", SH + "targetSubjectsOf",
                    SH + "property", RDFS + "comment", RDFS + "label"}


@dataclass
class Constraint:
    component: str
    check: Any                # per-value predicate, or special handling by component
    arg: Any = None


@dataclass
class PropertyShape:
    path: ox.NamedNode
    severity: str
    message: str
    min_count: int | None = None
    max_count: int | None = None
    value_checks: tuple[tuple[str, Any], ...] = ()   # (component, predicate(term, ctx) -> bool)
    less_eq: ox.NamedNode | None = None


@dataclass
class NodeShape:
    iri: str
    target_class: tuple[ox.NamedNode, ...]
    target_objects_of: tuple[ox.NamedNode, ...]
    target_subjects_of: tuple[ox.NamedNode, ...]
    properties: tuple[PropertyShape, ...]


def _shape_graph(paths: Iterable[Path]) -> list[ox.Triple]:
    triples: list[ox.Triple] = []
    for p in sorted(paths):
        triples += list(ox.parse(path=str(p), format=ox.RdfFormat.TURTLE))
    return triples


def _rdf_list(idx: dict[str, dict[str, list[Any]]], head: Any) -> list[Any]:
    items = []
    while not (isinstance(head, ox.NamedNode) and head.value == RDF + "nil"):
        node = idx[str(head)]
        items.append(node[RDF + "first"][0])
        head = node[RDF + "rest"][0]
    return items


def _local(iri: str) -> str:
    return iri.rsplit("#", 1)[-1]


class CompiledShapes:
    """The shapes in shapes/*.ttl as Python checks; :meth:`validate` runs them over one record graph."""

    def __init__(self, paths: Iterable[Path] | None = None) -> None:
        self.paths = sorted(paths if paths is not None else SHAPES_DIR.glob("*.ttl"))
        triples = _shape_graph(self.paths)
        idx: dict[str, dict[str, list[Any]]] = {}
        for t in triples:
            idx.setdefault(str(t.subject), {}).setdefault(t.predicate.value, []).append(t.object)
        self.shapes: list[NodeShape] = []
        for subj, props in idx.items():
            if ox.NamedNode(SH + "NodeShape") not in props.get(RDF_TYPE, []):
                continue
            extra = set(props) - _NODE_SHAPE_KEYS
            if extra:
                raise ShapeError(f"{subj}: unsupported node-shape keys {sorted(extra)}")
            self.shapes.append(NodeShape(
                iri=subj.strip("<>"),
                target_class=tuple(props.get(SH + "targetClass", [])),
                target_objects_of=tuple(props.get(SH + "targetObjectsOf", [])),
                target_subjects_of=tuple(props.get(SH + "targetSubjectsOf", [])),
                properties=tuple(self._property(idx, str(p)) for p in props.get(SH + "property", []))))
        self.shapes.sort(key=lambda s: s.iri)

    def _property(self, idx: dict[str, dict[str, list[Any]]], key: str) -> PropertyShape:
        props = idx[key]
        extra = set(props) - _SUPPORTED
        if extra:
            raise ShapeError(f"property shape {key}: unsupported keys {sorted(extra)}")
        path = props[SH + "path"][0]
        if not isinstance(path, ox.NamedNode):
            raise ShapeError(f"property shape {key}: only predicate paths are supported")
        one = {k: v[0] for k, v in props.items()}
        sev = _local(one[SH + "severity"].value) if SH + "severity" in one else "Violation"
        checks: list[tuple[str, Any]] = []
        checks += self._value_checks(idx, one)
        if SH + "or" in one:
            alts = [self._value_checks(idx, {k: v[0] for k, v in idx[str(a)].items()})
                    for a in _rdf_list(idx, one[SH + "or"])]
            checks.append(("OrConstraintComponent",
                           lambda t, ctx, alts=alts: any(all(f(t, ctx) for _c, f in alt) for alt in alts)))
        return PropertyShape(
            path=path, severity=sev,
            message=one[SH + "message"].value if SH + "message" in one else "",
            min_count=int(one[SH + "minCount"].value) if SH + "minCount" in one else None,
            max_count=int(one[SH + "maxCount"].value) if SH + "maxCount" in one else None,
            value_checks=tuple(checks),
            less_eq=one.get(SH + "lessThanOrEquals"))

    @staticmethod
    def _value_checks(idx: dict[str, dict[str, list[Any]]], one: dict[str, Any]) -> list[tuple[str, Any]]:
        checks: list[tuple[str, Any]] = []
        if SH + "class" in one:
            cls = one[SH + "class"]
            checks.append(("ClassConstraintComponent", lambda t, ctx, c=cls: ctx.is_instance(t, c)))
        if SH + "datatype" in one:
            dt = one[SH + "datatype"].value
            checks.append(("DatatypeConstraintComponent", lambda t, ctx, d=dt: _datatype_ok(t, d)))
        if SH + "nodeKind" in one:
            kind = _local(one[SH + "nodeKind"].value)
            checks.append(("NodeKindConstraintComponent", lambda t, ctx, k=kind: _node_kind_ok(t, k)))
        if SH + "pattern" in one:
            flags = one[SH + "flags"].value if SH + "flags" in one else ""
            rx = re.compile(one[SH + "pattern"].value, re.I if "i" in flags else 0)
            checks.append(("PatternConstraintComponent",
                           lambda t, ctx, r=rx: not isinstance(t, ox.BlankNode) and r.search(t.value) is not None))
        if SH + "minLength" in one:
            n = int(one[SH + "minLength"].value)
            checks.append(("MinLengthConstraintComponent",
                           lambda t, ctx, n=n: not isinstance(t, ox.BlankNode) and len(t.value) >= n))
        if SH + "in" in one:
            allowed = frozenset(str(x) for x in _rdf_list(idx, one[SH + "in"]))
            checks.append(("InConstraintComponent", lambda t, ctx, a=allowed: str(t) in a))
        return checks

    # -------------------------------------------------------------------------- validating
    @staticmethod
    def _focus(shape: NodeShape, ctx: _Data) -> set[Any]:
        focus: set[Any] = set()
        for c in shape.target_class:
            focus |= ctx.instances(c)
        for p in shape.target_objects_of:
            focus |= ctx.objects_of(p)
        for p in shape.target_subjects_of:
            focus |= set(ctx.subjects_of(p))
        return focus

    def focus_nodes(self, quads: Iterable[ox.Quad | ox.Triple]) -> dict[str, set[str]]:
        """Shape IRI -> the nodes it validates in this graph (N-Triples form): shows what is covered."""
        ctx = _Data(quads)
        return {shape.iri: {str(f) for f in self._focus(shape, ctx)} for shape in self.shapes}

    def validate(self, quads: Iterable[ox.Quad | ox.Triple], record: str = "") -> list[ValidationResult]:
        ctx = _Data(quads)
        results: list[ValidationResult] = []
        empty: dict[Any, list[Any]] = {}
        for shape in self.shapes:
            for f in self._focus(shape, ctx):
                fprops = ctx.spo.get(f, empty)
                for ps in shape.properties:
                    values = fprops.get(ps.path, ())
                    n = len(values)
                    if ps.min_count is not None and n < ps.min_count:
                        _result(results, record, f, ps, "MinCountConstraintComponent", "")
                    if ps.max_count is not None and n > ps.max_count:
                        _result(results, record, f, ps, "MaxCountConstraintComponent", "")
                    if not n:
                        continue
                    for comp, check in ps.value_checks:
                        for v in values:
                            if not check(v, ctx):
                                _result(results, record, f, ps, comp, str(v))
                    if ps.less_eq is not None:
                        for v in values:
                            for w in fprops.get(ps.less_eq, ()):
                                if not _less_eq(v, w):
                                    _result(results, record, f, ps, "LessThanOrEqualsConstraintComponent", str(v))
        return sorted(set(results))


def _result(out: list[ValidationResult], record: str, focus: Any, ps: PropertyShape, comp: str, value: str) -> None:
    node = focus.value if isinstance(focus, ox.NamedNode) else str(focus)
    out.append(ValidationResult(record, node, ps.path.value, ps.message, ps.severity, value, comp))


class _Data:
    """A record graph indexed for shape checks, keyed by pyoxigraph terms (hashing one is cheaper than
    building its string): subject -> predicate -> objects, class -> instances, subclass closure."""

    __slots__ = ("spo", "by_class", "sub")

    def __init__(self, quads: Iterable[ox.Quad | ox.Triple]) -> None:
        spo: dict[Any, dict[Any, list[Any]]] = {}
        by_class: dict[Any, list[Any]] = {}
        for q in quads:
            s, p, o = q if q.__class__ is tuple else (q.subject, q.predicate, q.object)
            props = spo.get(s)
            if props is None:
                props = spo[s] = {}
            objs = props.get(p)
            if objs is None:
                props[p] = [o]
            else:
                objs.append(o)
            if p == _TYPE:
                by_class.setdefault(o, []).append(s)
        self.spo, self.by_class = spo, by_class
        self.sub: dict[Any, set[Any]] = {}
        for s, props in spo.items():
            for o in props.get(_SUBCLASS, ()):
                self.sub.setdefault(o, set()).add(s)

    def subjects_of(self, pred: Any) -> list[Any]:
        return [s for s, props in self.spo.items() if pred in props]

    def objects_of(self, pred: Any) -> set[Any]:
        return {o for props in self.spo.values() for o in props.get(pred, ())}

    def _classes(self, cls: Any) -> set[Any]:
        seen, todo = {cls}, [cls]
        while todo:
            for c in self.sub.get(todo.pop(), ()):
                if c not in seen:
                    seen.add(c)
                    todo.append(c)
        return seen

    def instances(self, cls: Any) -> set[Any]:
        if not self.sub:
            return set(self.by_class.get(cls, ()))
        return {s for c in self._classes(cls) for s in self.by_class.get(c, ())}

    def is_instance(self, term: Any, cls: Any) -> bool:
        if isinstance(term, ox.Literal):
            return False
        props = self.spo.get(term)
        types = props.get(_TYPE, ()) if props else ()
        if not self.sub:
            return cls in types
        classes = self._classes(cls)
        return any(t in classes for t in types)


_TYPE = ox.NamedNode(RDF_TYPE)
_SUBCLASS = ox.NamedNode(SUBCLASS)


_LEXICAL = {
    XSD + "dateTime": re.compile(r"^-?\d{4,}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})?$"),
    XSD + "date": re.compile(r"^-?\d{4,}-\d{2}-\d{2}(Z|[+-]\d{2}:\d{2})?$"),
    XSD + "gYearMonth": re.compile(r"^-?\d{4,}-\d{2}(Z|[+-]\d{2}:\d{2})?$"),
    XSD + "gYear": re.compile(r"^-?\d{4,}(Z|[+-]\d{2}:\d{2})?$"),
    XSD + "integer": re.compile(r"^[+-]?\d+$"),
}


def _datatype_ok(term: Any, dt: str) -> bool:
    """sh:datatype: a literal of that datatype whose lexical form is valid for it."""
    if not isinstance(term, ox.Literal) or term.datatype.value != dt:
        return False
    rx = _LEXICAL.get(dt)
    if rx is None:
        return True
    if not rx.match(term.value):
        return False
    if dt in (XSD + "dateTime", XSD + "date"):
        try:
            (datetime if dt.endswith("dateTime") else date).fromisoformat(term.value.rstrip("Z"))
        except ValueError:
            return False
    return True


def _node_kind_ok(term: Any, kind: str) -> bool:
    is_iri, is_bnode, is_lit = (isinstance(term, ox.NamedNode), isinstance(term, ox.BlankNode),
                                isinstance(term, ox.Literal))
    return {"IRI": is_iri, "BlankNode": is_bnode, "Literal": is_lit, "BlankNodeOrIRI": is_iri or is_bnode,
            "BlankNodeOrLiteral": is_bnode or is_lit, "IRIOrLiteral": is_iri or is_lit}[kind]


def _less_eq(a: Any, b: Any) -> bool:
    """sh:lessThanOrEquals with pyshacl's semantics (rdflib term ordering), fast for the usual dateTimes.

    pyshacl orders literals of incompatible datatypes by datatype IRI instead of failing as the SHACL
    text says; the reference decides, so anything but two well-formed xsd:dateTimes goes to rdflib.
    """
    if (isinstance(a, ox.Literal) and isinstance(b, ox.Literal)
            and a.datatype.value == b.datatype.value == XSD + "dateTime"):
        try:
            return datetime.fromisoformat(a.value) <= datetime.fromisoformat(b.value)
        except (ValueError, TypeError):
            pass
    return _rdflib_less_eq(a, b)


def _rdflib_less_eq(a: Any, b: Any) -> bool:
    import rdflib

    def conv(t: Any) -> Any:
        if isinstance(t, ox.Literal):
            if t.language:
                return rdflib.Literal(t.value, lang=t.language)
            return rdflib.Literal(t.value, datatype=t.datatype.value)
        return str(t.value) if isinstance(t, ox.NamedNode) else t

    x, y = conv(a), conv(b)
    if isinstance(x, rdflib.Literal) and isinstance(x.value, str):
        x = x.value
    if isinstance(y, rdflib.Literal) and isinstance(y.value, str):
        y = y.value
    if isinstance(x, str) != isinstance(y, str):
        return False
    with warnings.catch_warnings():     # rdflib's own NotImplemented-in-bool deprecation, not ours
        warnings.simplefilter("ignore", DeprecationWarning)
        try:
            return bool(x <= y)
        except TypeError:
            return False


@functools.lru_cache(maxsize=1)
def compiled() -> CompiledShapes:
    return CompiledShapes()


# ------------------------------------------------------------------------------ public API
def validate_record(data: Iterable[ox.Quad | ox.Triple] | Any, record: str = "", *,
                    reference: bool = False) -> list[ValidationResult]:
    """SHACL results for one record graph (pyoxigraph quads/triples, a mapper's (subject, predicate,
    object) tuples, or an rdflib Graph).

    ``reference=True`` runs pyshacl instead of the compiled fast path (``lod validate --pyshacl``).
    """
    if reference:
        return validate_pyshacl(data, record)
    if hasattr(data, "triples") and not isinstance(data, list):     # an rdflib Graph
        data = _from_rdflib(data)
    return compiled().validate(data, record)


def _from_rdflib(graph: Any) -> list[ox.Triple]:
    nt = graph.serialize(format="nt", encoding="utf-8")
    return list(ox.parse(nt, ox.RdfFormat.N_TRIPLES))


def _nt(term: Any) -> str:
    """An rdflib term in pyoxigraph's N-Triples form, so both validators print values alike."""
    import rdflib

    if isinstance(term, rdflib.Literal):
        if term.language:
            return str(ox.Literal(str(term), language=term.language))
        return str(ox.Literal(str(term), datatype=ox.NamedNode(str(term.datatype or XSD + "string"))))
    if isinstance(term, rdflib.BNode):
        return f"_:{term}"
    return f"<{term}>"


@functools.lru_cache(maxsize=1)
def _shapes_rdflib() -> Any:
    import rdflib

    g = rdflib.Graph()
    for p in sorted(SHAPES_DIR.glob("*.ttl")):
        g.parse(p, format="turtle")
    return g


def validate_pyshacl(data: Iterable[ox.Quad | ox.Triple] | Any, record: str = "") -> list[ValidationResult]:
    """The reference: pyshacl over the same shapes, results converted to :class:`ValidationResult`."""
    import pyshacl
    import rdflib

    if hasattr(data, "triples") and not isinstance(data, list):
        graph = data
    else:
        triples = [ox.Triple(s, p, o) for s, p, o in spo(data)]
        graph = rdflib.Graph()
        graph.parse(data=ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES), format="nt")
    _conforms, report, _text = pyshacl.validate(graph, shacl_graph=_shapes_rdflib(), inference="none",
                                                advanced=False, allow_warnings=True)
    sh = rdflib.Namespace(SH)
    out = []
    for r in report.subjects(rdflib.RDF.type, sh.ValidationResult):
        path = report.value(r, sh.resultPath)
        value = report.value(r, sh.value)
        out.append(ValidationResult(
            record=record, focus=str(report.value(r, sh.focusNode)), path=str(path) if path else "",
            message=str(report.value(r, sh.resultMessage) or ""),
            severity=_local(str(report.value(r, sh.resultSeverity))),
            value=_nt(value) if value is not None else "",
            component=_local(str(report.value(r, sh.sourceConstraintComponent)))))
    return sorted(set(out))
