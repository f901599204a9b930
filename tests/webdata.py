"""A small hand-written dataset in the store layout (lod.store), for the web tests until/unless the
real build is wanted: two documents, people with awkward IRIs, an authority and an ontology graph.
"""

from __future__ import annotations

import gzip
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox

from lod.store import Catalog, CatalogEntry, Layout

BASE = "http://localhost:8080/"
ODD = "zhou-(enlai),_o'hara%2F刘"          # ( ) , ' % and non-ASCII in one local name
BUILT_AT = "2026-11-22T09:00:00Z"

TRIG = """
@prefix crm: <http://www.cidoc-crm.org/cidoc-crm/> .
@prefix dcterms: <http://purl.org/dc/terms/> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix skos: <http://www.w3.org/2004/02/skos/core#> .
@prefix owl: <http://www.w3.org/2002/07/owl#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
@prefix id: <{B}id/> .

<{B}graph/document/116814> {{
  <{B}id/document/116814> a crm:E31_Document, crm:E33_Linguistic_Object ;
    rdfs:label "Diary of Soviet Ambassador P.F. Yudin, Memorandum of Conversation with Liu Shaoqi" ;
    dcterms:title "Diary of Soviet Ambassador P.F. Yudin, Memorandum of Conversation with Liu Shaoqi" ;
    dcterms:date "1956-11-22"^^xsd:date ;
    dcterms:description "Liu Shaoqi discusses the potential withdrawal of Soviet advisors. <script>alert(1)</script>" ;
    dcterms:source <javascript:alert(1)> ;
    crm:P67_refers_to <{B}id/person/liu-shaoqi>, <{B}id/person/{ODD}> ;
    crm:P70_documents <{B}id/event/116814-conversation> ;
    crm:P94i_was_created_by <{B}id/creation/116814> ;
    crm:P1_is_identified_by [ a crm:E42_Identifier ; crm:P190_has_symbolic_content "116814" ] .
  <{B}id/creation/116814> a crm:E65_Creation ; crm:P14_carried_out_by <{B}id/person/yudin> .
  <{B}id/event/116814-conversation> a crm:E7_Activity ; rdfs:label "Conversation of 30 October 1956" ;
    crm:P11_had_participant <{B}id/person/liu-shaoqi> .
  <{B}id/person/liu-shaoqi> a crm:E21_Person ; rdfs:label "Liu Shaoqi" .
  <{B}id/person/yudin> a crm:E21_Person ; rdfs:label "Pavel Yudin" .
  <{B}id/person/{ODD}> a crm:E21_Person ; rdfs:label "Zhou O'Hara 刘" .
}}

<{B}graph/document/1954-journal> {{
  <{B}id/document/1954-journal> a crm:E31_Document ;
    rdfs:label "From the Journal of Ambassador P. F. Yudin, 13 February 1954" ;
    dcterms:title "From the Journal of Ambassador P. F. Yudin, 13 February 1954" ;
    dcterms:date "1954-02-23"^^xsd:date ;
    crm:P67_refers_to <{B}id/person/liu-shaoqi> .
  <{B}id/person/liu-shaoqi> a crm:E21_Person ; rdfs:label "Liu Shaoqi" .
}}

<{B}graph/authority> {{
  <{B}id/person/liu-shaoqi> a crm:E21_Person ; rdfs:label "Liu Shaoqi"@en ;
    skos:altLabel "Liu, Shaoqi", "刘少奇"@zh ; owl:sameAs <http://www.wikidata.org/entity/Q58999> .
  <{B}id/person/yudin> a crm:E21_Person ; rdfs:label "Pavel Yudin"@en ;
    owl:sameAs <http://www.wikidata.org/entity/Q1390346> .
  <{B}id/person/{ODD}> a crm:E21_Person ; rdfs:label "Zhou O'Hara 刘"@en .
}}

<{B}graph/ontology> {{
  crm:E21_Person rdfs:label "Person"@en, "Person"@de .
  <{B}vocab/document-type/diary-entry> a skos:Concept ; skos:prefLabel "Diary entry"@en ;
    skos:inScheme <{B}vocab/document-type> .
  <{B}vocab/document-type> a skos:ConceptScheme ; skos:prefLabel "Document types"@en .
}}
"""


@dataclass
class Fixture:
    store: Path
    base: str


def make_store(root: Path, base: str = BASE) -> Fixture:
    """Write TRIG into ``root`` as a published build with catalog, meta and dumps."""
    layout = Layout(root)
    build = layout.new_build()
    text = TRIG.format(B=base, ODD=ODD)
    quads = list(ox.parse(text, format=ox.RdfFormat.TRIG))
    st = ox.Store(str(build / "oxigraph"))
    st.extend(quads)
    st.flush()
    del st
    cat = Catalog(build / "catalog.sqlite")
    cat.put([CatalogEntry("116814", f"{base}graph/document/116814", "c1", BUILT_AT, title="Diary of Yudin"),
             CatalogEntry("1954-journal", f"{base}graph/document/1954-journal", "c2", BUILT_AT,
                          title="Journal of Yudin")])
    cat.set_meta(built_at=BUILT_AT, base_uri=base, version="test", triples=str(len(quads)))
    cat.close()
    dumps = build / "dumps"
    dumps.mkdir()
    triples = [q.triple for q in quads]
    with gzip.open(dumps / "dataset.nt.gz", "wb") as fh:
        fh.write(ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES))
    with gzip.open(dumps / "dataset.ttl.gz", "wb") as fh:
        fh.write(ox.serialize(triples, format=ox.RdfFormat.TURTLE))
    layout.publish(build)
    return Fixture(store=root, base=base)
