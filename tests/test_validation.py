"""SHACL: the compiled fast path gives exactly pyshacl's results, on good and deliberately broken graphs.

pyshacl (the reference) and lod.validation's compiled shapes run over the same record graphs; the
results (focus node, path, severity, message, value, constraint component) must be identical.
"""

from __future__ import annotations

import copy
from pathlib import Path

import pyoxigraph as ox
import pytest

from bench.generate import authority as synthetic_authority
from bench.generate import generate
from lod.authority import Authority
from lod.mapping import Mapper, authority_quads
from lod.mapping.namespaces import CRM, DCT, OWL, RDF, RDFS, SKOS, XSD
from lod.records import Record
from lod.sources.record_files import load_all
from lod.uris import Minter
from lod.validation import CompiledShapes, ShapeError, ValidationResult, validate_pyshacl, validate_record

# pyshacl compares ill-formed dateTimes through rdflib, which warns about its own internals
pytestmark = pytest.mark.filterwarnings("ignore:NotImplemented should not be used:DeprecationWarning")
ROOT = Path(__file__).resolve().parent.parent
BASE = "http://localhost:8080/"
SEED_B = "116814"


@pytest.fixture(scope="module")
def bundled() -> dict[str, list[ox.Quad]]:
    auth = Authority.load(ROOT / "data" / "authority.yaml")
    mapper = Mapper(copy.deepcopy(auth), Minter(BASE))
    loaded, errors = load_all(ROOT / "data" / "records")
    assert not errors
    graphs = {r.key: mapper.map(r).quads for _p, r in loaded}
    graphs["authority"] = list(authority_quads(auth, Minter(BASE), mapper.unknown_entities.values()))
    return graphs


def both(quads: list[ox.Quad], record: str = "r") -> list[ValidationResult]:
    fast = validate_record(quads, record)
    ref = validate_pyshacl(quads, record)
    assert fast == ref, f"fast path and pyshacl differ:\nfast only {set(fast) - set(ref)}\npyshacl only {set(ref) - set(fast)}"
    return fast


def test_bundled_records_same_results_as_pyshacl(bundled: dict[str, list[ox.Quad]]) -> None:
    seen = 0
    for key, quads in bundled.items():
        results = both(quads, key)
        assert not [r for r in results if r.blocking], key       # the bundled data is publishable
        seen += len(results)
    assert seen > 0          # warnings exist (e.g. CSV rows without authors), so the comparison is not vacuous


def test_synthetic_records_same_results_as_pyshacl() -> None:
    mapper = Mapper(synthetic_authority(1), Minter(BASE))
    for rec in generate(15, seed=7):
        assert not [r for r in both(mapper.map(rec).quads, rec.key) if r.blocking]


# ----------------------------------------------------------------------------------- broken graphs
N = ox.NamedNode


def _doc(quads: list[ox.Quad]) -> ox.NamedNode:
    return next(q.subject for q in quads if q.object == N(CRM + "E31_Document"))


def drop(pred: str, subject_type: str | None = None):  # noqa: ANN201
    def edit(quads: list[ox.Quad]) -> list[ox.Quad]:
        subjects = {q.subject for q in quads if subject_type and q.object == N(subject_type)}
        return [q for q in quads if not (q.predicate.value == pred and (not subject_type or q.subject in subjects))]
    return edit


def add(make):  # noqa: ANN001, ANN201
    def edit(quads: list[ox.Quad]) -> list[ox.Quad]:
        g = quads[0].graph_name
        return quads + [ox.Quad(s, p, o, g) for s, p, o in make(quads)]
    return edit


def replace_object(pred: str, new):  # noqa: ANN001, ANN201
    def edit(quads: list[ox.Quad]) -> list[ox.Quad]:
        return [ox.Quad(q.subject, q.predicate, new(q), q.graph_name) if q.predicate.value == pred else q
                for q in quads]
    return edit


def _ts(quads: list[ox.Quad]) -> ox.NamedNode:
    return next(q.subject for q in quads if q.object == N(CRM + "E52_Time-Span"))


def _first(quads: list[ox.Quad], cls: str) -> ox.NamedNode:
    return next(q.subject for q in quads if q.predicate.value == RDF + "type" and q.object == N(cls))


BROKEN = {
    "missing title": (lambda qs: drop(DCT + "title")(drop(RDFS + "label", CRM + "E31_Document")(
        drop(CRM + "P102_has_title")(qs))), "The document has no title"),
    "two titles": (add(lambda qs: [(_doc(qs), N(RDFS + "label"), ox.Literal("Another title"))]),
                   "more than one title"),
    "empty title": (replace_object(CRM + "P190_has_symbolic_content",
                                   lambda q: ox.Literal("  ", language="en") if "/title/" in q.subject.value else q.object),
                    "The title is empty"),
    "no creation": (drop(CRM + "P94i_was_created_by"), "exactly one creation event"),
    "title without language": (replace_object(DCT + "title", lambda q: ox.Literal(q.object.value)),
                               "exactly one title in English"),
    "place as author": (add(lambda qs: [(_first(qs, CRM + "E65_Creation"), N(CRM + "P14_carried_out_by"),
                                         N(f"{BASE}id/place/moscow")),
                                        (N(f"{BASE}id/place/moscow"), N(RDF + "type"), N(CRM + "E53_Place")),
                                        (N(f"{BASE}id/place/moscow"), N(RDFS + "label"), ox.Literal("Moscow"))]),
                        "must be a person or an organisation"),
    "literal participant": (add(lambda qs: [(_first(qs, CRM + "E7_Activity"), N(CRM + "P11_had_participant"),
                                             ox.Literal("Rakhmanin"))]), "must be a person or an organisation"),
    "period ends before it starts": (replace_object(CRM + "P82b_end_of_the_end",
                                                    lambda q: ox.Literal("1900-01-01T00:00:00", datatype=N(XSD + "dateTime"))),
                                     "starts after it ends"),
    "begin not a dateTime": (replace_object(CRM + "P82a_begin_of_the_begin",
                                            lambda q: ox.Literal("1956-11-22", datatype=N(XSD + "date"))),
                             "no valid start"),
    "ill-formed dateTime": (replace_object(CRM + "P82a_begin_of_the_begin",
                                           lambda q: ox.Literal("1956-02-31T00:00:00", datatype=N(XSD + "dateTime"))),
                            "no valid start"),
    "two begins": (add(lambda qs: [(_ts(qs), N(CRM + "P82a_begin_of_the_begin"),
                                    ox.Literal("1950-01-01T00:00:00", datatype=N(XSD + "dateTime")))]),
                   "no valid start"),
    "sameAs not Wikidata": (add(lambda qs: [(N(f"{BASE}id/person/pavel-yudin"), N(OWL + "sameAs"),
                                             N("http://dbpedia.org/resource/Pavel_Yudin"))]),
                            "Wikidata entity IRI"),
    "sameAs literal": (add(lambda qs: [(N(f"{BASE}id/person/pavel-yudin"), N(OWL + "sameAs"), ox.Literal("Q855"))]),
                       "Wikidata entity IRI"),
    "person without name": (drop(RDFS + "label", CRM + "E21_Person"), "A person has no name"),
    "identifier without type": (lambda qs: [q for q in qs if not (q.predicate.value == CRM + "P2_has_type"
                                                                   and "/identifier/" in q.subject.value)],
                                "An identifier has no type"),
    "translation without language": (lambda qs: [q for q in qs if not (q.predicate.value == CRM + "P72_has_language"
                                                                        and "/translation/" in q.subject.value)],
                                     "The translation has no language"),
    "concept without label": (drop(SKOS + "prefLabel"), "has no label"),
    "original carries nothing": (drop(CRM + "P128_carries"), "must carry the document"),
    "keeper is a language": (replace_object(CRM + "P50_has_current_keeper", lambda q: N(f"{BASE}vocab/language/ru")),
                             "keeper of the original"),
    "conversation at a person": (add(lambda qs: [(N(f"{BASE}id/event/116814-conversation"), N(CRM + "P7_took_place_at"),
                                                  N(f"{BASE}id/person/pavel-yudin"))]), "must be a place"),
    "two dates": (add(lambda qs: [(_doc(qs), N(DCT + "date"), ox.Literal("1957", datatype=N(XSD + "gYear")))]),
                  "more than one date"),
    "no date (warning only)": (drop(DCT + "date"), "has no date"),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_broken_graph_same_results_as_pyshacl(bundled: dict[str, list[ox.Quad]], case: str) -> None:
    edit, expected = BROKEN[case]
    quads = edit(list(bundled[SEED_B]))
    results = both(quads, SEED_B)
    hits = [r for r in results if expected in r.message]
    assert hits, f"{case}: expected a result saying {expected!r}, got {[r.message for r in results]}"
    if "warning only" in case:
        assert all(not r.blocking for r in hits)
    else:
        assert any(r.blocking for r in hits)
    assert all(r.record == SEED_B and r.focus.startswith("http") for r in hits)


def test_result_is_located_data(bundled: dict[str, list[ox.Quad]]) -> None:
    quads = BROKEN["missing title"][0](list(bundled[SEED_B]))
    r = next(r for r in validate_record(quads, SEED_B) if r.path == RDFS + "label")
    assert (r.record, r.focus, r.severity, r.component) == (SEED_B, f"{BASE}id/document/116814", "Violation",
                                                            "MinCountConstraintComponent")
    assert r.located().startswith(f"record {SEED_B}, {BASE}id/document/116814, {RDFS}label: Violation: ")


def test_validate_accepts_rdflib_graph(bundled: dict[str, list[ox.Quad]]) -> None:
    import rdflib

    g = rdflib.Graph()
    g.parse(data=ox.serialize([q.triple for q in bundled[SEED_B]], format=ox.RdfFormat.N_TRIPLES), format="nt")
    assert validate_record(g, SEED_B) == validate_record(bundled[SEED_B], SEED_B)
    assert validate_record(g, SEED_B, reference=True) == validate_record(bundled[SEED_B], SEED_B)


def test_every_emitted_class_is_covered_by_a_shape(bundled: dict[str, list[ox.Quad]]) -> None:
    """Every typed node the mapping emits (records, authority, synthetic records) is validated by some shape."""
    shapes = CompiledShapes()
    mapper = Mapper(synthetic_authority(1), Minter(BASE))
    graphs = list(bundled.values()) + [mapper.map(r).quads for r in generate(30, seed=5)]
    classes = set()
    for quads in graphs:
        covered = set().union(*shapes.focus_nodes(quads).values())
        typed = {(str(q.subject), q.object.value) for q in quads if q.predicate.value == RDF + "type"}
        classes |= {c for _s, c in typed}
        uncovered = {(s, c) for s, c in typed if s not in covered}
        assert not uncovered, uncovered
    assert {CRM + c for c in ("E31_Document", "E35_Title", "E42_Identifier", "E65_Creation", "E52_Time-Span",
                              "E7_Activity", "E21_Person", "E53_Place", "E74_Group", "E56_Language",
                              "E22_Human-Made_Object", "E67_Birth")} <= classes


def test_compiler_refuses_unsupported_shapes(tmp_path: Path) -> None:
    bad = tmp_path / "bad.ttl"
    bad.write_text("""@prefix sh: <http://www.w3.org/ns/shacl#> . @prefix ex: <http://example.org/> .
        ex:S a sh:NodeShape ; sh:targetClass ex:C ; sh:property [ sh:path ex:p ; sh:hasValue ex:v ] .""")
    with pytest.raises(ShapeError, match="hasValue"):
        CompiledShapes([bad])
    bad.write_text("""@prefix sh: <http://www.w3.org/ns/shacl#> . @prefix ex: <http://example.org/> .
        ex:S a sh:NodeShape ; sh:targetNode ex:n .""")
    with pytest.raises(ShapeError, match="targetNode"):
        CompiledShapes([bad])


def test_subclass_closure_in_data_graph(tmp_path: Path) -> None:
    """sh:class and sh:targetClass follow rdfs:subClassOf found in the data graph, as pyshacl does."""
    g = N("urn:g")
    person, doc = N(f"{BASE}id/person/x"), N(f"{BASE}id/document/x")
    sub = N("http://example.org/Diplomat")
    quads = [ox.Quad(sub, N(RDFS + "subClassOf"), N(CRM + "E21_Person"), g),
             ox.Quad(person, N(RDF + "type"), sub, g),
             ox.Quad(N(f"{BASE}id/creation/x"), N(RDF + "type"), N(CRM + "E65_Creation"), g),
             ox.Quad(N(f"{BASE}id/creation/x"), N(CRM + "P14_carried_out_by"), person, g),
             ox.Quad(doc, N(RDF + "type"), N(CRM + "E31_Document"), g)]
    results = both(quads)
    assert any(r.focus == person.value and "A person has no name" in r.message for r in results)
    assert not any("must be a person or an organisation" in r.message for r in results)


def test_mapped_record_without_optional_fields() -> None:
    """A minimal record: only warnings, identical in both validators."""
    q = Mapper(Authority(), Minter(BASE)).map(Record(key="min", title="A title")).quads
    results = both(q, "min")
    assert results and not [r for r in results if r.blocking]
