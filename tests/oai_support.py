"""OAI-PMH test support: the XSD gate every response goes through, and a small hand-made store.

``valid(body)`` validates a response offline against OAI-PMH.xsd (+ oai_dc.xsd for oai_dc metadata,
oai-identifier.xsd for Identify) with lxml and returns the parsed root; every OAI test calls it on
every response it gets, through ``Harvest``/``oai_get`` or directly.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import pyoxigraph as ox
from lxml import etree

from lod.store import Catalog, CatalogEntry, Layout
from lod.uris import Minter

HERE = Path(__file__).resolve().parent
SCHEMA = etree.XMLSchema(etree.parse(str(HERE / "fixtures" / "oai" / "oai-all.xsd")))
NS = {"o": "http://www.openarchives.org/OAI/2.0/", "oai_dc": "http://www.openarchives.org/OAI/2.0/oai_dc/",
      "dc": "http://purl.org/dc/elements/1.1/", "dcterms": "http://purl.org/dc/terms/",
      "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#", "edm": "http://www.europeana.eu/schemas/edm/",
      "ore": "http://www.openarchives.org/ore/terms/", "skos": "http://www.w3.org/2004/02/skos/core#",
      "oid": "http://www.openarchives.org/OAI/2.0/oai-identifier"}
PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True)
RESPONSES_VALIDATED = [0]


def valid(body: bytes) -> etree._Element:
    """Parse and XSD-validate one OAI-PMH response; fail the test with the schema's own messages."""
    root = etree.fromstring(body, PARSER)
    if not SCHEMA.validate(root):
        errors = "\n".join(f"line {e.line}: {e.message}" for e in SCHEMA.error_log)
        raise AssertionError(f"response is not valid OAI-PMH:\n{errors}\n{body[:3000].decode(errors='replace')}")
    # The envelope is OAI-PMH; with processContents=strict the oai_dc payload was checked by oai_dc.xsd.
    assert root.tag == "{http://www.openarchives.org/OAI/2.0/}OAI-PMH"
    for dc in root.iterfind(".//o:metadata/oai_dc:dc", NS):
        assert len(dc), "empty oai_dc record"
    RESPONSES_VALIDATED[0] += 1
    return root


def errors(root: etree._Element) -> list[str]:
    return [e.get("code") for e in root.iterfind("o:error", NS)]


def request_attrs(root: etree._Element) -> dict[str, str]:
    return dict(root.find("o:request", NS).attrib)


# ----------------------------------------------------------------------------------- a small store
CRM = "http://www.cidoc-crm.org/cidoc-crm/"
DCT = "http://purl.org/dc/terms/"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"


@dataclass
class MiniRecord:
    key: str
    title: str
    datestamp: str
    deleted: bool = False
    sets: tuple[str, ...] = ()
    language: str = "ru"
    description: str = ""
    checksum: str = ""


def record_quads(minter: Minter, r: MiniRecord) -> list[ox.Quad]:
    g = ox.NamedNode(minter.record_graph(r.key))
    doc = ox.NamedNode(minter.document(r.key))
    person = ox.NamedNode(minter.entity("person", "yudin-pavel"))
    place = ox.NamedNode(minter.entity("place", "beijing"))
    subj = ox.NamedNode(minter.term("subject", "sino-soviet-relations"))

    def q(s: ox.NamedNode, p: str, o: ox.NamedNode | ox.Literal) -> ox.Quad:
        return ox.Quad(s, ox.NamedNode(p), o, g)

    out = [
        q(doc, RDF_TYPE, ox.NamedNode(CRM + "E31_Document")),
        q(doc, RDFS + "label", ox.Literal(r.title, language="en")),
        q(doc, DCT + "title", ox.Literal(r.title, language="en")),
        q(doc, DCT + "creator", person),
        q(doc, DCT + "date", ox.Literal("1956-10-30", datatype=ox.NamedNode("http://www.w3.org/2001/XMLSchema#date"))),
        q(doc, DCT + "identifier", ox.Literal(r.key)),
        q(doc, DCT + "subject", subj),
        q(doc, DCT + "spatial", place),
        q(doc, DCT + "source", ox.NamedNode(f"https://digitalarchive.example.org/document/{quote(r.key)}")),
        q(doc, DCT + "rights", ox.Literal("Reuse welcomed for research & education <free>")),
        q(person, RDF_TYPE, ox.NamedNode(CRM + "E21_Person")),
        q(person, RDFS + "label", ox.Literal("Pavel Yudin")),
        q(place, RDF_TYPE, ox.NamedNode(CRM + "E53_Place")),
        q(place, RDFS + "label", ox.Literal("Beijing")),
        q(subj, RDFS + "label", ox.Literal("Sino-Soviet relations", language="en")),
    ]
    if r.language:
        out.append(q(doc, DCT + "language", ox.Literal(r.language)))
    if r.description:
        out.append(q(doc, DCT + "description", ox.Literal(r.description)))
    return out


def make_store(root: Path, records: list[MiniRecord], base: str = "http://localhost:8080/",
               set_names: dict[str, str] | None = None) -> Path:
    """Write one build of ``records`` into the store at ``root`` and publish it; returns the build dir."""
    minter = Minter(base)
    layout = Layout(root)
    while True:
        try:
            build = layout.new_build()
            break
        except FileExistsError:       # build ids have 1 s resolution
            time.sleep(0.2)
    store = ox.Store(str(build / "oxigraph"))
    store.extend([q for r in records if not r.deleted for q in record_quads(minter, r)])
    store.flush()
    del store
    cat = Catalog(build / "catalog.sqlite")
    cat.put(CatalogEntry(key=r.key, graph=minter.record_graph(r.key), checksum=r.checksum or json.dumps(r.title),
                         datestamp=r.datestamp, deleted=r.deleted, title=r.title, sets=list(r.sets))
            for r in records)
    names = set_names or {s: s.split(":")[-1].title() for r in records for s in r.sets}
    cat.put_sets(names)
    cat.set_meta(built_at=max(r.datestamp for r in records), base_uri=base)
    cat.close()
    (build / "dumps").mkdir()
    layout.publish(build)
    return build
