"""lod.provenance: a record graph's provenance made as text in a build worker says what the quads say."""

from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox

from lod.dumps import TurtleWriter
from lod.provenance import Provenance
from lod.uris import Minter

BASE = "http://example.org/"


def _prov(data: Path) -> Provenance:
    return Provenance(Minter(BASE), "20261123T000000-1", "2026-11-23T00:00:00Z", data)


def test_the_text_forms_hold_exactly_the_quads(tmp_path: Path) -> None:
    prov = _prov(tmp_path)
    path = tmp_path / "records" / 'a "quoted" \\ name é.yaml'      # a file name that needs escaping
    graph = f"{BASE}graph/document/a"
    quads = prov.graph(graph, 'records/a "quoted" \\ name é.yaml', "ab" * 32)
    rp = prov.record(graph, path, "ab" * 32, TurtleWriter())
    assert set(ox.parse(rp.nq, ox.RdfFormat.N_QUADS)) == set(quads) and rp.quads == len(quads) == 7
    triples = {q.triple for q in quads}
    assert {q.triple for q in ox.parse(rp.nt, ox.RdfFormat.N_TRIPLES)} == triples
    assert {q.triple for q in ox.parse(TurtleWriter.header() + rp.ttl, ox.RdfFormat.TURTLE)} == triples
    assert rp.classes == {"http://www.w3.org/ns/prov#Entity": 2}
    assert rp.named == [f"urn:sha256:{'ab' * 32}"] and rp.source == 'records/a "quoted" \\ name é.yaml'


def test_without_a_hash_only_the_graph_is_described(tmp_path: Path) -> None:
    rp = _prov(tmp_path).record(f"{BASE}graph/document/b", Path("/elsewhere/b.yaml"), "", TurtleWriter())
    assert rp.quads == 3 and rp.classes == {"http://www.w3.org/ns/prov#Entity": 1} and rp.named == []
    assert rp.source == "/elsewhere/b.yaml"         # outside the data folder: named as it is
    assert len(list(ox.parse(TurtleWriter.header() + rp.ttl, ox.RdfFormat.TURTLE))) == 3
