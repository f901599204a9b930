"""OAI-PMH metadata formats, each derived from a record's own named graph (docs/oai.md).

* ``oai_dc``: simple Dublin Core from the document's ``dcterms:*`` statements (the mapping writes
  them in parallel to CIDOC-CRM); IRIs become the labels the record graph gives them.
* ``edm``: Europeana Data Model (lod/oai/edm.py).
* ``rdf``: the record's CIDOC-CRM graph itself, as RDF/XML.

Each renders a :class:`~lod.oai.view.RecordView`, read from the store or from the build's quads.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pyoxigraph as ox
from lxml import etree

from lod.oai import xmlout as x
from lod.oai.edm import check_edm_rights, edm_problems, render_edm
from lod.oai.view import (
    _NOT_XML,
    CRM,
    DC,
    DCT,
    EDM,
    OAI_DC,
    OWL,
    RDF,
    RDFS,
    SKOS,
    XSI,
    Context,
    MemorySource,
    RecordView,
    StoreSource,
    Term,
    _order,
    vocabulary_labels,
    xml_text,
)

__all__ = ["FORMATS", "Format", "Context", "RecordView", "StoreSource", "MemorySource", "vocabulary_labels",
           "check_edm_rights", "edm_problems", "xml_text", "XSI"]

# Simple DC elements in their customary order, and the dcterms refinements that dumb down to each.
DC_ELEMENTS = ("title", "creator", "subject", "description", "publisher", "contributor", "date", "type",
               "format", "identifier", "source", "language", "relation", "coverage", "rights")
_REFINES = {
    "title": ("alternative",),
    "description": ("abstract", "tableOfContents"),
    "date": ("created", "issued", "modified", "available", "dateAccepted", "dateCopyrighted", "dateSubmitted",
             "valid"),
    "identifier": ("bibliographicCitation",),
    "relation": ("isPartOf", "hasPart", "references", "isReferencedBy", "isVersionOf", "hasVersion", "isFormatOf",
                 "hasFormat", "requires", "isRequiredBy", "replaces", "isReplacedBy", "conformsTo"),
    "coverage": ("spatial", "temporal"),
    "rights": ("license", "accessRights"),
}
DC_OF: dict[str, str] = {}
for _el in DC_ELEMENTS:
    DC_OF[DCT + _el] = _el
    DC_OF[DC + _el] = _el
    for _r in _REFINES.get(_el, ()):
        DC_OF[DCT + _r] = _el
DC_OF[RDFS + "seeAlso"] = "relation"     # the source archive's own page for the document


@dataclass(frozen=True)
class Format:
    prefix: str
    schema: str
    namespace: str
    render: Callable[[RecordView, Context], bytes]     # the metadata element, serialised


# ----------------------------------------------------------------------------------- oai_dc
_KEEP_IRI = {"identifier", "source", "relation"}


def dc_values(view: RecordView, ctx: Context) -> list[tuple[str, str, str]]:
    """(element, text, lang) of simple Dublin Core, deduplicated, in DC element order."""
    seen: set[tuple[str, str]] = set()
    out: list[tuple[str, str, str]] = []

    def add(el: str, text: str, lang: str = "") -> None:
        text = text.strip()
        if text and (el, text) not in seen:
            seen.add((el, text))
            out.append((el, text, lang))

    by_el: dict[str, list[str]] = {el: [] for el in DC_ELEMENTS}
    for pred in view.props:
        el = DC_OF.get(pred)
        if el:
            by_el[el].append(pred)
    for el in DC_ELEMENTS:
        for term in view.values(*by_el[el]):
            if el == "language":
                add(el, view.language_code(term))
            else:
                add(el, *view.text(term, keep_iri=el in _KEEP_IRI))
        if el == "publisher" and not by_el[el]:
            add("publisher", ctx.publisher)
        if el == "identifier":
            add("identifier", view.document)
    return out


_OAI_DC_ROOT = (f"<oai_dc:dc{x.namespaces({'oai_dc': OAI_DC, 'dc': DC, 'xsi': XSI})}"
                f' xsi:schemaLocation="{OAI_DC} http://www.openarchives.org/OAI/2.0/oai_dc.xsd">')


def render_oai_dc(view: RecordView, ctx: Context) -> bytes:
    """Simple Dublin Core, serialised (lod.oai.xmlout: the bytes lxml would write)."""
    return x.finish([_OAI_DC_ROOT, *(x.leaf(f"dc:{el}", text, lang) for el, text, lang in dc_values(view, ctx)),
                     "</oai_dc:dc>"])


# ----------------------------------------------------------------------------------- rdf
_RDF_PREFIXES = {"crm": CRM, "rdfs": RDFS, "dcterms": DCT, "owl": OWL, "skos": SKOS,
                 "prov": "http://www.w3.org/ns/prov#", "xsd": "http://www.w3.org/2001/XMLSchema#"}


def render_rdf(view: RecordView, ctx: Context) -> bytes:
    """The record graph as RDF/XML (pyoxigraph writes it; literals made XML-safe first)."""
    triples = sorted((ox.Triple(t.subject, t.predicate, _xml_safe(t.object)) for t in view.source.quads()),
                     key=lambda t: (t.subject.value, t.predicate.value, _order(t.object)))
    data = ox.serialize(triples, format=ox.RdfFormat.RDF_XML, prefixes=_RDF_PREFIXES)
    root = etree.fromstring(data, etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True))
    return etree.tostring(root)     # without pyoxigraph's XML declaration, as the other formats


def _xml_safe(term: Term) -> Term:
    if isinstance(term, ox.Literal) and _NOT_XML.search(term.value):
        if term.language:
            return ox.Literal(xml_text(term.value), language=term.language)
        return ox.Literal(xml_text(term.value), datatype=term.datatype)
    return term


FORMATS: dict[str, Format] = {
    "oai_dc": Format("oai_dc", "http://www.openarchives.org/OAI/2.0/oai_dc.xsd", OAI_DC, render_oai_dc),
    "edm": Format("edm", "http://www.europeana.eu/schemas/edm/EDM.xsd", EDM, render_edm),
    "rdf": Format("rdf", "http://www.openarchives.org/OAI/2.0/rdf.xsd", RDF, render_rdf),
}
