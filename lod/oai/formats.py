"""OAI-PMH metadata formats, each derived from a record's own named graph (docs/oai.md).

* ``oai_dc``: simple Dublin Core from the document's ``dcterms:*`` statements (the mapping writes
  them in parallel to CIDOC-CRM); IRIs become the labels the record graph gives them.
* ``edm``: Europeana Data Model: one ``edm:ProvidedCHO`` and one ``ore:Aggregation`` per record,
  with agents, places and concepts as contextual resources (edm:Agent, edm:Place, skos:Concept).
* ``rdf``: the record's CIDOC-CRM graph itself, as RDF/XML.

Reading is one ``quads_for_pattern`` over the document's statements in its graph plus one per
referenced entity for its label: no SPARQL, no whole-graph load, so a page costs what it shows.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

import pyoxigraph as ox
from lxml import etree

RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
DC = "http://purl.org/dc/elements/1.1/"
DCT = "http://purl.org/dc/terms/"
DCMITYPE = "http://purl.org/dc/dcmitype/"
OAI_DC = "http://www.openarchives.org/OAI/2.0/oai_dc/"
EDM = "http://www.europeana.eu/schemas/edm/"
ORE = "http://www.openarchives.org/ore/terms/"
SKOS = "http://www.w3.org/2004/02/skos/core#"
OWL = "http://www.w3.org/2002/07/owl#"
CRM = "http://www.cidoc-crm.org/cidoc-crm/"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"

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
_LABELS = (ox.NamedNode(SKOS + "prefLabel"), ox.NamedNode(RDFS + "label"))
_TYPE = ox.NamedNode(RDF + "type")
_NOTATION = ox.NamedNode(SKOS + "notation")
_LANG_CODE = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{1,8})*$")
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def xml_text(value: str) -> str:
    """Drop the characters XML 1.0 cannot carry (form feeds in scanned text, NULs in bad input)."""
    return _NOT_XML.sub("", value) if _NOT_XML.search(value) else value


@dataclass
class RecordView:
    """A document's statements, read once from its record graph, with labels for the IRIs it uses."""

    store: ox.Store
    graph: ox.NamedNode
    document: str
    props: dict[str, list[ox.NamedNode | ox.Literal | ox.BlankNode]] = field(default_factory=dict)
    shared: dict[str, ox.Literal | None] = field(default_factory=dict)   # labels from other graphs, per request

    @classmethod
    def read(cls, store: ox.Store, graph: str, document: str, shared: dict | None = None) -> RecordView:
        view = cls(store, ox.NamedNode(graph), document, shared=shared if shared is not None else {})
        for q in store.quads_for_pattern(ox.NamedNode(document), None, None, view.graph):
            view.props.setdefault(q.predicate.value, []).append(q.object)
        return view

    def values(self, *predicates: str) -> list[ox.NamedNode | ox.Literal | ox.BlankNode]:
        out: list = []
        for p in predicates:
            for v in self.props.get(p, ()):
                if v not in out:
                    out.append(v)
        return out

    def label(self, iri: str) -> ox.Literal | None:
        """skos:prefLabel or rdfs:label: from the record graph (it carries a stub for every entity it
        uses), else from any graph (vocabulary terms live in the ontology graph), cached per request."""
        found = self._label_in(iri, self.graph)
        if found is None:
            if iri not in self.shared:
                self.shared[iri] = self._label_in(iri, None)
            found = self.shared[iri]
        return found

    def _label_in(self, iri: str, graph: ox.NamedNode | None) -> ox.Literal | None:
        node = ox.NamedNode(iri)
        for pred in _LABELS:
            for q in self.store.quads_for_pattern(node, pred, None, graph):
                if isinstance(q.object, ox.Literal):
                    return q.object
        return None

    def language_code(self, term: ox.NamedNode | ox.Literal | ox.BlankNode) -> str:
        """ISO 639 code of a language value: a literal as written, a concept by its skos:notation or
        its IRI's last segment ({base}vocab/language/ru -> ru)."""
        if isinstance(term, ox.Literal):
            return xml_text(term.value)
        for q in self.store.quads_for_pattern(term, _NOTATION, None, None):
            return xml_text(q.object.value)
        last = term.value.rstrip("/").rsplit("/", 1)[-1]
        return last if _LANG_CODE.match(last) else xml_text(term.value)

    def types(self, iri: str) -> set[str]:
        return {q.object.value for q in self.store.quads_for_pattern(ox.NamedNode(iri), _TYPE, None, self.graph)}

    def text(self, term: ox.NamedNode | ox.Literal | ox.BlankNode, *, keep_iri: bool = False) -> tuple[str, str]:
        """(text, language) of a value: literals as written, IRIs by their label unless ``keep_iri``."""
        if isinstance(term, ox.Literal):
            return xml_text(term.value), term.language or ""
        if isinstance(term, ox.NamedNode) and not keep_iri:
            lab = self.label(term.value)
            if lab is not None:
                return xml_text(lab.value), lab.language or ""
            if term.value.startswith(DCMITYPE):
                return term.value[len(DCMITYPE):], ""
        return xml_text(term.value), ""


@dataclass(frozen=True)
class Context:
    """What a format needs besides the record: the publisher's facts."""

    publisher: str
    edm_rights: str
    landing_page: Callable[[str], str]     # document IRI -> its HTML page


@dataclass(frozen=True)
class Format:
    prefix: str
    schema: str
    namespace: str
    render: Callable[..., etree._Element]   # (store, graph, document, ctx, shared label cache)


# ----------------------------------------------------------------------------------- oai_dc
_KEEP_IRI = {"identifier", "source", "relation"}


def dc_values(view: RecordView, ctx: Context) -> list[tuple[str, str, str]]:
    """(element, text, lang) triples of simple Dublin Core, deduplicated, in DC element order."""
    seen: set[tuple[str, str]] = set()
    out: list[tuple[str, str, str]] = []

    def add(el: str, text: str, lang: str = "") -> None:
        text = text.strip()
        if text and (el, text) not in seen:
            seen.add((el, text))
            out.append((el, text, lang))

    by_el: dict[str, list] = {el: [] for el in DC_ELEMENTS}
    for pred, objs in view.props.items():
        el = DC_OF.get(pred)
        if el:
            by_el[el].extend(objs)
    for el in DC_ELEMENTS:
        for term in by_el[el]:
            if isinstance(term, ox.BlankNode):
                continue
            if el == "language":
                add(el, view.language_code(term))
                continue
            add(el, *view.text(term, keep_iri=el in _KEEP_IRI))
        if el == "publisher" and not by_el[el]:
            add("publisher", ctx.publisher)
        if el == "identifier":
            add("identifier", view.document)
    return out


def render_oai_dc(store: ox.Store, graph: str, document: str, ctx: Context,
                  shared: dict | None = None) -> etree._Element:
    view = RecordView.read(store, graph, document, shared)
    root = etree.Element(f"{{{OAI_DC}}}dc", nsmap={"oai_dc": OAI_DC, "dc": DC, "xsi": XSI})
    root.set(f"{{{XSI}}}schemaLocation", f"{OAI_DC} http://www.openarchives.org/OAI/2.0/oai_dc.xsd")
    for el, text, lang in dc_values(view, ctx):
        child = etree.SubElement(root, f"{{{DC}}}{el}")
        child.text = text
        if lang:
            child.set(XML_LANG, lang)
    return root


# ----------------------------------------------------------------------------------- edm
_AGENT_TYPES = {CRM + "E21_Person", CRM + "E74_Group", CRM + "E39_Actor", CRM + "E40_Legal_Body"}
_PLACE_TYPES = {CRM + "E53_Place"}
# EDM properties of the ProvidedCHO, in order, with the dcterms/dc predicates that feed them.
_CHO = (
    ("dc:title", (DCT + "title", DC + "title")),
    ("dcterms:alternative", (DCT + "alternative",)),
    ("dc:description", (DCT + "description", DC + "description", DCT + "abstract")),
    ("dc:creator", (DCT + "creator", DC + "creator")),
    ("dc:contributor", (DCT + "contributor", DC + "contributor")),
    ("dc:date", (DCT + "date", DC + "date")),
    ("dcterms:created", (DCT + "created",)),
    ("dc:identifier", (DCT + "identifier", DC + "identifier")),
    ("dc:language", (DCT + "language", DC + "language")),
    ("dc:publisher", (DCT + "publisher", DC + "publisher")),
    ("dc:rights", (DCT + "rights", DC + "rights")),
    ("dc:source", (DCT + "source", DC + "source")),
    ("dc:subject", (DCT + "subject", DC + "subject")),
    ("dc:type", (DCT + "type", DC + "type")),
    ("dcterms:isPartOf", (DCT + "isPartOf",)),
    ("dcterms:references", (DCT + "references",)),
    ("dcterms:spatial", (DCT + "spatial",)),
    ("dcterms:temporal", (DCT + "temporal",)),
)
_EDM_NS = {"rdf": RDF, "edm": EDM, "ore": ORE, "dc": DC, "dcterms": DCT, "skos": SKOS, "owl": OWL}
_RES = f"{{{RDF}}}resource"
_ABOUT = f"{{{RDF}}}about"


def _q(name: str) -> str:
    prefix, local = name.split(":")
    return f"{{{_EDM_NS[prefix]}}}{local}"


def edm_problems(root: etree._Element) -> list[str]:
    """Europeana's mandatory rules, checked on the rendered EDM: empty list = acceptable."""
    cho = root.find(_q("edm:ProvidedCHO"))
    agg = root.find(_q("ore:Aggregation"))
    problems = []
    if cho is None or agg is None:
        return ["one edm:ProvidedCHO and one ore:Aggregation are required"]
    if cho.find(_q("dc:title")) is None and cho.find(_q("dc:description")) is None:
        problems.append("dc:title or dc:description is required")
    if all(cho.find(_q(p)) is None for p in ("dc:subject", "dc:type", "dcterms:temporal", "dcterms:spatial")):
        problems.append("one of dc:subject, dc:type, dcterms:temporal, dcterms:spatial is required")
    if cho.findtext(_q("edm:type")) == "TEXT" and cho.find(_q("dc:language")) is None:
        problems.append("dc:language is required when edm:type is TEXT")
    for p in ("edm:aggregatedCHO", "edm:dataProvider", "edm:isShownAt", "edm:provider", "edm:rights"):
        if agg.find(_q(p)) is None:
            problems.append(f"{p} is required on the aggregation")
    return problems


def render_edm(store: ox.Store, graph: str, document: str, ctx: Context,
               shared: dict | None = None) -> etree._Element:
    view = RecordView.read(store, graph, document, shared)
    root = etree.Element(_q("rdf:RDF"), nsmap=_EDM_NS)
    cho = etree.SubElement(root, _q("edm:ProvidedCHO"), {_ABOUT: document})
    contextual: dict[str, str] = {}     # IRI -> EDM contextual class
    seen: set[tuple[str, str]] = set()
    for name, preds in _CHO:
        for term in view.values(*preds):
            if isinstance(term, ox.BlankNode):
                continue
            if name == "dc:language":
                text, lang = view.language_code(term), ""
                if text and (name, text) not in seen:
                    seen.add((name, text))
                    etree.SubElement(cho, _q(name)).text = text
                continue
            if isinstance(term, ox.NamedNode) and name != "dc:identifier":
                if (name, term.value) not in seen:
                    seen.add((name, term.value))
                    etree.SubElement(cho, _q(name), {_RES: term.value})
                    cls = _contextual_class(view, term.value)
                    if cls:
                        contextual.setdefault(term.value, cls)
                continue
            text, lang = view.text(term, keep_iri=name in ("dc:identifier", "dc:source"))
            if text and (name, text) not in seen:
                seen.add((name, text))
                el = etree.SubElement(cho, _q(name))
                el.text = text
                if lang:
                    el.set(XML_LANG, lang)
    if cho.find(_q("dc:type")) is None:    # every record is a text document: say so in DCMI terms
        etree.SubElement(cho, _q("dc:type"), {_RES: DCMITYPE + "Text"})
    etree.SubElement(cho, _q("edm:type")).text = "TEXT"
    for iri, cls in contextual.items():
        ent = etree.SubElement(root, _q(cls), {_ABOUT: iri})
        lab = view.label(iri)
        if lab is not None:
            pl = etree.SubElement(ent, _q("skos:prefLabel"))
            pl.text = xml_text(lab.value)
            if lab.language:
                pl.set(XML_LANG, lab.language)
        for q in store.quads_for_pattern(ox.NamedNode(iri), ox.NamedNode(OWL + "sameAs"), None, view.graph):
            etree.SubElement(ent, _q("owl:sameAs"), {_RES: q.object.value})
    agg = etree.SubElement(root, _q("ore:Aggregation"), {_ABOUT: document + "#aggregation"})
    etree.SubElement(agg, _q("edm:aggregatedCHO"), {_RES: document})
    etree.SubElement(agg, _q("edm:dataProvider")).text = ctx.publisher
    etree.SubElement(agg, _q("edm:isShownAt"), {_RES: ctx.landing_page(document)})
    etree.SubElement(agg, _q("edm:provider")).text = ctx.publisher
    etree.SubElement(agg, _q("edm:rights"), {_RES: ctx.edm_rights})
    return root


def _contextual_class(view: RecordView, iri: str) -> str | None:
    """The EDM contextual class for an entity the record graph describes with a label, else None."""
    if view.label(iri) is None:
        return None
    types = view.types(iri)
    if types & _AGENT_TYPES:
        return "edm:Agent"
    if types & _PLACE_TYPES:
        return "edm:Place"
    return "skos:Concept"


_RIGHTS = re.compile(
    r"^http://rightsstatements\.org/vocab/(InC|InC-OW-EU|InC-EDU|InC-NC|InC-RUU|NoC-CR|NoC-NC|NoC-OKLR|NoC-US"
    r"|CNE|UND|NKC)/1\.0/$"
    r"|^http://creativecommons\.org/(licenses/(by|by-sa|by-nd|by-nc|by-nc-sa|by-nc-nd)/[1-4]\.0(/[a-z]{2})?/"
    r"|publicdomain/(zero|mark)/1\.0/)$")


def check_edm_rights(iri: str) -> str:
    """edm:rights must be one of the statements Europeana accepts (http, trailing slash)."""
    if not _RIGHTS.match(iri):
        raise ValueError(f"setting edm_rights ({iri!r}) is not a rightsstatements.org or Creative Commons "
                         "IRI Europeana accepts, e.g. http://rightsstatements.org/vocab/InC-EDU/1.0/ or "
                         "http://creativecommons.org/licenses/by/4.0/")
    return iri


# ----------------------------------------------------------------------------------- rdf
_RDF_PREFIXES = {"crm": CRM, "rdfs": RDFS, "dcterms": DCT, "owl": OWL, "skos": SKOS,
                 "prov": "http://www.w3.org/ns/prov#", "xsd": "http://www.w3.org/2001/XMLSchema#"}


def render_rdf(store: ox.Store, graph: str, document: str, ctx: Context,
               shared: dict | None = None) -> etree._Element:
    """The record graph as RDF/XML (pyoxigraph writes it; literals made XML-safe first)."""
    triples = [ox.Triple(q.subject, q.predicate, _xml_safe(q.object))
               for q in store.quads_for_pattern(None, None, None, ox.NamedNode(graph))]
    data = ox.serialize(triples, format=ox.RdfFormat.RDF_XML, prefixes=_RDF_PREFIXES)
    return etree.fromstring(data, etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True))


def _xml_safe(term: ox.NamedNode | ox.Literal | ox.BlankNode) -> ox.NamedNode | ox.Literal | ox.BlankNode:
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
