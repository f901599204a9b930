"""Every CIDOC-CRM property the mapping uses joins things of its declared domain and range.

The CRM 7.1.3 RDFS (ontology/) gives rdfs:domain, rdfs:range, rdfs:subClassOf and
rdfs:subPropertyOf. A triple ``s p o`` must satisfy the domain and range of ``p`` and of every
super-property of ``p`` (RDFS semantics), where ``s`` and ``o`` count as instances of every
superclass of their asserted types. Types come from the record graph itself, the ontology graph
(vocabulary terms are skos:Concepts) and the authority graph. Checked on every bundled record,
the authority graph and a sample of synthetic records: zero violations. Every crm: term used
must exist in the RDFS.
"""

from __future__ import annotations

import copy
from collections import defaultdict
from pathlib import Path

import pyoxigraph as ox
import pytest

from bench.generate import authority as synthetic_authority
from bench.generate import generate
from lod.authority import Authority
from lod.mapping import Mapper, authority_quads
from lod.mapping.namespaces import CRM, RDF, RDFS
from lod.mapping.vocab import CRM_RDFS, ontology_quads
from lod.records import Record
from lod.sources.record_files import load_all
from lod.uris import Minter

ROOT = Path(__file__).resolve().parent.parent
BASE = "http://localhost:8080/"
LITERAL = RDFS + "Literal"


class Crm:
    """Domains, ranges and the class/property hierarchies of the CRM RDFS."""

    def __init__(self) -> None:
        self.domain: dict[str, set[str]] = defaultdict(set)
        self.range: dict[str, set[str]] = defaultdict(set)
        self.super_class: dict[str, set[str]] = defaultdict(set)
        self.super_prop: dict[str, set[str]] = defaultdict(set)
        self.classes: set[str] = set()
        self.properties: set[str] = set()
        for t in ox.parse(path=str(CRM_RDFS), format=ox.RdfFormat.RDF_XML):
            s, p, o = t.subject.value, t.predicate.value, t.object
            if p == RDFS + "domain":
                self.domain[s].add(o.value)
            elif p == RDFS + "range":
                self.range[s].add(o.value)
            elif p == RDFS + "subClassOf":
                self.super_class[s].add(o.value)
            elif p == RDFS + "subPropertyOf":
                self.super_prop[s].add(o.value)
            elif p == RDF + "type" and o.value == RDFS + "Class":
                self.classes.add(s)
            elif p == RDF + "type" and o.value == RDF + "Property":
                self.properties.add(s)

    def closure(self, start: set[str], up: dict[str, set[str]]) -> set[str]:
        seen, todo = set(start), list(start)
        while todo:
            for nxt in up.get(todo.pop(), ()):
                if nxt not in seen:
                    seen.add(nxt)
                    todo.append(nxt)
        return seen

    def check(self, quads: list[ox.Quad], context: list[ox.Quad] = ()) -> list[str]:  # type: ignore[assignment]
        """Violations (as readable lines) among the CRM-governed triples of ``quads``."""
        types: dict[str, set[str]] = defaultdict(set)
        for q in [*quads, *context]:
            if q.predicate.value == RDF + "type":
                types[q.subject.value].add(q.object.value)
        problems = []
        for q in quads:
            props = self.closure({q.predicate.value}, self.super_prop)
            governed = [p for p in props if p.startswith(CRM)]
            if not governed:
                continue
            s_types = self.closure(types.get(q.subject.value, set()), self.super_class)
            o = q.object
            o_types = set() if isinstance(o, ox.Literal) else self.closure(types.get(o.value, set()), self.super_class)
            for p in governed:
                for d in self.domain.get(p, ()):
                    if d not in s_types:
                        problems.append(f"{q.subject.value} {q.predicate.value}: subject not a {d} "
                                        f"(via {p}; types {sorted(types.get(q.subject.value, ()))})")
                for r in self.range.get(p, ()):
                    ok = isinstance(o, ox.Literal) if r == LITERAL else (not isinstance(o, ox.Literal) and r in o_types)
                    if not ok:
                        problems.append(f"{q.subject.value} {q.predicate.value} {o}: object not a {r} (via {p})")
        return problems

    def unknown_terms(self, quads: list[ox.Quad]) -> set[str]:
        used = {t.value for q in quads for t in (q.predicate, q.object)
                if isinstance(t, ox.NamedNode) and t.value.startswith(CRM)}
        return used - self.classes - self.properties


@pytest.fixture(scope="module")
def crm() -> Crm:
    return Crm()


@pytest.fixture(scope="module")
def context() -> list[ox.Quad]:
    return ontology_quads(BASE, f"{BASE}graph/ontology")


def _bundled() -> tuple[list[list[ox.Quad]], list[ox.Quad]]:
    auth = Authority.load(ROOT / "data" / "authority.yaml")
    mapper = Mapper(copy.deepcopy(auth), Minter(BASE))
    loaded, errors = load_all(ROOT / "data" / "records")
    assert not errors
    graphs = [mapper.map(r).quads for _p, r in loaded]
    return graphs, list(authority_quads(auth, Minter(BASE), mapper.unknown_entities.values()))


def test_rdfs_is_crm_7_1_3(crm: Crm) -> None:
    assert CRM + "P4_has_time-span" in crm.properties and CRM + "E52_Time-Span" in crm.classes
    assert crm.domain[CRM + "P94i_was_created_by"] == {CRM + "E28_Conceptual_Object"}
    assert CRM + "P14.1_in_the_role_of" not in crm.properties     # hence roles as typed activities


def test_bundled_records_respect_domain_and_range(crm: Crm, context: list[ox.Quad]) -> None:
    graphs, auth = _bundled()
    assert len(graphs) >= 13
    problems = [p for g in graphs for p in crm.check(g, [*context, *auth])]
    assert problems == []
    used = {q.predicate.value for g in graphs for q in g if q.predicate.value.startswith(CRM)}
    assert len(used) >= 20      # the check ran over a real variety of CRM properties


def test_authority_graph_respects_domain_and_range(crm: Crm, context: list[ox.Quad]) -> None:
    _graphs, auth = _bundled()
    assert crm.check(auth, context) == []


def test_synthetic_records_respect_domain_and_range(crm: Crm, context: list[ox.Quad]) -> None:
    mapper = Mapper(synthetic_authority(1), Minter(BASE))
    problems = []
    for rec in generate(150, seed=3):
        problems += crm.check(mapper.map(rec).quads, context)
    assert problems == []


def test_every_crm_term_used_exists(crm: Crm) -> None:
    graphs, auth = _bundled()
    used = [q for g in graphs for q in g] + auth
    assert crm.unknown_terms(used) == set()
    assert crm.unknown_terms([ox.Quad(ox.NamedNode("http://x/a"), ox.NamedNode(CRM + "P14.1_in_the_role_of"),
                                      ox.NamedNode("http://x/b"))]) == {CRM + "P14.1_in_the_role_of"}


def test_checker_catches_violations(crm: Crm, context: list[ox.Quad]) -> None:
    """Not vacuous: a place as an author, a literal as a participant, a document as a time-span owner."""
    m = Mapper(Authority(), Minter(BASE))
    quads = m.map(Record(key="k", title="T", date="1950", places=["Moscow"])).quads
    g = quads[0].graph_name
    doc, place = ox.NamedNode(f"{BASE}id/document/k"), ox.NamedNode(f"{BASE}id/place/moscow")
    creation = ox.NamedNode(f"{BASE}id/creation/k")
    bad = [ox.Quad(creation, ox.NamedNode(CRM + "P14_carried_out_by"), place, g),
           ox.Quad(creation, ox.NamedNode(CRM + "P11_had_participant"), ox.Literal("Yudin"), g),
           ox.Quad(doc, ox.NamedNode(CRM + "P4_has_time-span"), ox.NamedNode(f"{BASE}id/timespan/k-created"), g)]
    problems = crm.check(quads + bad, context)
    assert any("P14_carried_out_by" in p and "E39_Actor" in p for p in problems)
    assert any("P11_had_participant" in p and "object not a" in p for p in problems)
    assert any("P4_has_time-span: subject not a" in p and "E2_Temporal_Entity" in p for p in problems)
    # a project sub-property of a CRM property is held to the CRM property's domain and range
    sub = "http://x/vocab/addressee"
    crm.super_prop[sub] = {CRM + "P11_had_participant"}
    try:
        sub_bad = crm.check([ox.Quad(doc, ox.NamedNode(sub), place, g)], quads + context)
    finally:
        del crm.super_prop[sub]
    assert any("E5_Event" in p for p in sub_bad) and any("E39_Actor" in p for p in sub_bad)


def test_ontology_graph_vocabulary_respects_domain_and_range(crm: Crm, context: list[ox.Quad]) -> None:
    vocab = [q for q in context if q.subject.value.startswith(BASE)]
    assert len(vocab) > 100
    assert crm.check(vocab, context) == []
