"""OAI-PMH metadata formats, each derived from a record's own named graph (docs/oai.md).

* ``oai_dc``: simple Dublin Core from the document's ``dcterms:*`` statements (the mapping writes
  them in parallel to CIDOC-CRM); IRIs become the labels the record graph gives them.
* ``edm``: Europeana Data Model: one ``edm:ProvidedCHO`` and one ``ore:Aggregation`` per record,
  with agents, places and concepts as contextual resources (edm:Agent, edm:Place, skos:Concept).
* ``rdf``: the record's CIDOC-CRM graph itself, as RDF/XML.

A :class:`RecordView` reads the record through a source: :class:`StoreSource` (the published store:
one ``quads_for_pattern`` per subject, no SPARQL) or :class:`MemorySource` (the quads the build just
mapped, for lod.oai.prepared). Both give the same statements, and every choice (which label, value
order) is made on sorted values, so the two paths write byte-identical XML.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Protocol

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
Term = ox.NamedNode | ox.Literal | ox.BlankNode

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
LABELS = (SKOS + "prefLabel", RDFS + "label")
TYPE = RDF + "type"
SAME_AS = OWL + "sameAs"
NOTATION = SKOS + "notation"
_LANG_CODE = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{1,8})*$")
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def xml_text(value: str) -> str:
    """Drop the characters XML 1.0 cannot carry (form feeds in scanned text, NULs in bad input)."""
    return _NOT_XML.sub("", value) if _NOT_XML.search(value) else value


def _order(term: Term) -> tuple:
    if isinstance(term, ox.Literal):
        return (1, term.value, term.language or "", term.datatype.value)
    return (0 if isinstance(term, ox.NamedNode) else 2, term.value, "", "")


def best_label(candidates: Iterable[tuple[str, ox.Literal]]) -> ox.Literal | None:
    """One label, chosen the same way whatever the read order: skos:prefLabel before rdfs:label,
    English, then untagged, then other languages; ties by text."""
    best = None
    for pred, lit in candidates:
        rank = (LABELS.index(pred), {"en": 0, "": 1}.get(lit.language or "", 2), lit.value, lit.language or "")
        if best is None or rank < best[0]:
            best = (rank, lit)
    return best[1] if best else None


# ----------------------------------------------------------------------------------- sources
class Source(Protocol):
    def statements(self, subject: str) -> dict[str, list[Term]]: ...      # predicate -> objects, record graph
    def vocabulary(self, iri: str) -> list[tuple[str, ox.Literal]]: ...   # labels from the ontology graph
    def quads(self) -> list[ox.Triple]: ...                                # the whole record graph


class StoreSource:
    """A record graph in the published store; vocabulary labels from the ontology graph, cached per page."""

    def __init__(self, store: ox.Store, graph: str, ontology: str, cache: dict | None = None) -> None:
        self.store, self.graph, self.ontology = store, ox.NamedNode(graph), ox.NamedNode(ontology)
        self.cache = cache if cache is not None else {}

    def statements(self, subject: str) -> dict[str, list[Term]]:
        out: dict[str, list[Term]] = {}
        for q in self.store.quads_for_pattern(ox.NamedNode(subject), None, None, self.graph):
            out.setdefault(q.predicate.value, []).append(q.object)
        return out

    def vocabulary(self, iri: str) -> list[tuple[str, ox.Literal]]:
        if iri not in self.cache:
            node = ox.NamedNode(iri)
            self.cache[iri] = [(p, q.object) for p in LABELS
                               for q in self.store.quads_for_pattern(node, ox.NamedNode(p), None, self.ontology)
                               if isinstance(q.object, ox.Literal)]
        return self.cache[iri]

    def quads(self) -> list[ox.Triple]:
        return [q.triple for q in self.store.quads_for_pattern(None, None, None, self.graph)]


class MemorySource:
    """The quads of one record graph as the build mapped them (no store read)."""

    def __init__(self, quads: Iterable[ox.Quad], vocabulary: dict[str, list[tuple[str, ox.Literal]]]) -> None:
        self._quads = list(quads)
        self.index: dict[str, dict[str, list[Term]]] = {}
        for q in self._quads:
            self.index.setdefault(q.subject.value, {}).setdefault(q.predicate.value, []).append(q.object)
        self.vocab = vocabulary

    def statements(self, subject: str) -> dict[str, list[Term]]:
        return self.index.get(subject, {})

    def vocabulary(self, iri: str) -> list[tuple[str, ox.Literal]]:
        return self.vocab.get(iri, [])

    def quads(self) -> list[ox.Triple]:
        return [q.triple for q in self._quads]


def vocabulary_labels(quads: Iterable[ox.Quad]) -> dict[str, list[tuple[str, ox.Literal]]]:
    """Labels in the ontology graph's quads, for MemorySource."""
    out: dict[str, list[tuple[str, ox.Literal]]] = {}
    for q in quads:
        if q.predicate.value in LABELS and isinstance(q.object, ox.Literal):
            out.setdefault(q.subject.value, []).append((q.predicate.value, q.object))
    return out


@dataclass
class RecordView:
    """A document's statements with labels, types and links for the IRIs it uses."""

    source: Source
    document: str
    props: dict[str, list[Term]] = field(default_factory=dict)
    _entities: dict[str, dict[str, list[Term]]] = field(default_factory=dict)

    @classmethod
    def read(cls, source: Source, document: str) -> RecordView:
        return cls(source, document, source.statements(document))

    def values(self, *predicates: str) -> list[Term]:
        out: set[Term] = set()
        for p in predicates:
            out.update(v for v in self.props.get(p, ()) if not isinstance(v, ox.BlankNode))
        return sorted(out, key=_order)

    def about(self, iri: str) -> dict[str, list[Term]]:
        if iri not in self._entities:
            self._entities[iri] = self.source.statements(iri)
        return self._entities[iri]

    def label(self, iri: str) -> ox.Literal | None:
        """The record graph's label (it stubs every entity and concept it uses), else the vocabulary's."""
        st = self.about(iri)
        found = best_label((p, o) for p in LABELS for o in st.get(p, ()) if isinstance(o, ox.Literal))
        return found if found is not None else best_label(self.source.vocabulary(iri))

    def types(self, iri: str) -> set[str]:
        return {o.value for o in self.about(iri).get(TYPE, ())}

    def same_as(self, iri: str) -> list[str]:
        return sorted(o.value for o in self.about(iri).get(SAME_AS, ()) if isinstance(o, ox.NamedNode))

    def text(self, term: Term, *, keep_iri: bool = False) -> tuple[str, str]:
        """(text, language) of a value: literals as written, IRIs by their label unless ``keep_iri``."""
        if isinstance(term, ox.Literal):
            return xml_text(term.value), term.language or ""
        if not keep_iri:
            lab = self.label(term.value)
            if lab is not None:
                return xml_text(lab.value), lab.language or ""
            if term.value.startswith(DCMITYPE):
                return term.value[len(DCMITYPE):], ""
        return xml_text(term.value), ""

    def language_code(self, term: Term) -> str:
        """ISO 639 code: a literal as written, a concept by skos:notation or its IRI's last segment."""
        if isinstance(term, ox.Literal):
            return xml_text(term.value)
        notes = sorted(o.value for o in self.about(term.value).get(NOTATION, ()))
        if notes:
            return xml_text(notes[0])
        last = term.value.rstrip("/").rsplit("/", 1)[-1]
        return last if _LANG_CODE.match(last) else xml_text(term.value)


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
    render: Callable[[RecordView, Context], etree._Element]


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


def render_oai_dc(view: RecordView, ctx: Context) -> etree._Element:
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
    """Europeana's mandatory rules, checked on rendered EDM: an empty list means acceptable."""
    cho = root.find(_q("edm:ProvidedCHO"))
    agg = root.find(_q("ore:Aggregation"))
    if cho is None or agg is None or len(root.findall(_q("edm:ProvidedCHO"))) != 1 \
            or len(root.findall(_q("ore:Aggregation"))) != 1:
        return ["exactly one edm:ProvidedCHO and one ore:Aggregation are required"]
    problems = []
    if cho.find(_q("dc:title")) is None and cho.find(_q("dc:description")) is None:
        problems.append("dc:title or dc:description is required")
    if all(cho.find(_q(p)) is None for p in ("dc:subject", "dc:type", "dcterms:temporal", "dcterms:spatial")):
        problems.append("one of dc:subject, dc:type, dcterms:temporal, dcterms:spatial is required")
    if cho.findtext(_q("edm:type")) == "TEXT" and cho.find(_q("dc:language")) is None:
        problems.append("dc:language is required when edm:type is TEXT")
    if cho.findtext(_q("edm:type")) not in ("TEXT", "IMAGE", "SOUND", "VIDEO", "3D"):
        problems.append("edm:type must be TEXT, IMAGE, SOUND, VIDEO or 3D")
    for p in ("edm:aggregatedCHO", "edm:dataProvider", "edm:isShownAt", "edm:provider", "edm:rights"):
        if agg.find(_q(p)) is None:
            problems.append(f"{p} is required on the aggregation")
    if agg.find(_q("edm:aggregatedCHO")) is not None and \
            agg.find(_q("edm:aggregatedCHO")).get(_RES) != cho.get(_ABOUT):
        problems.append("edm:aggregatedCHO must point at the ProvidedCHO")
    rights = agg.find(_q("edm:rights"))
    if rights is not None and not _RIGHTS.match(rights.get(_RES) or ""):
        problems.append("edm:rights must be a rightsstatements.org or Creative Commons IRI")
    return problems


def render_edm(view: RecordView, ctx: Context) -> etree._Element:
    document = view.document
    root = etree.Element(_q("rdf:RDF"), nsmap=_EDM_NS)
    cho = etree.SubElement(root, _q("edm:ProvidedCHO"), {_ABOUT: document})
    contextual: dict[str, str] = {}     # IRI -> EDM contextual class, in first-use order
    for name, preds in _CHO:
        seen: set[str] = set()
        for term in view.values(*preds):
            if name == "dc:language":
                text, lang = view.language_code(term), ""
            elif isinstance(term, ox.NamedNode) and name != "dc:identifier":
                if term.value not in seen:
                    seen.add(term.value)
                    etree.SubElement(cho, _q(name), {_RES: term.value})
                    cls = _contextual_class(view, term.value)
                    if cls:
                        contextual.setdefault(term.value, cls)
                continue
            else:
                text, lang = view.text(term, keep_iri=True)
            if text and text not in seen:
                seen.add(text)
                el = etree.SubElement(cho, _q(name))
                el.text = text
                if lang:
                    el.set(XML_LANG, lang)
    if cho.find(_q("dc:language")) is None:
        for code in _fallback_languages(view):
            etree.SubElement(cho, _q("dc:language")).text = code
    if cho.find(_q("dc:type")) is None:    # every record is a text document: say so in DCMI terms
        etree.SubElement(cho, _q("dc:type"), {_RES: DCMITYPE + "Text"})
    etree.SubElement(cho, _q("edm:type")).text = "TEXT"
    for iri, cls in contextual.items():
        ent = etree.SubElement(root, _q(cls), {_ABOUT: iri})
        lab = view.label(iri)
        pl = etree.SubElement(ent, _q("skos:prefLabel"))
        pl.text = xml_text(lab.value) if lab is not None else iri
        if lab is not None and lab.language:
            pl.set(XML_LANG, lab.language)
        for same in view.same_as(iri):
            etree.SubElement(ent, _q("owl:sameAs"), {_RES: same})
    agg = etree.SubElement(root, _q("ore:Aggregation"), {_ABOUT: document + "#aggregation"})
    etree.SubElement(agg, _q("edm:aggregatedCHO"), {_RES: document})
    etree.SubElement(agg, _q("edm:dataProvider")).text = ctx.publisher
    etree.SubElement(agg, _q("edm:isShownAt"), {_RES: ctx.landing_page(document)})
    etree.SubElement(agg, _q("edm:provider")).text = ctx.publisher
    etree.SubElement(agg, _q("edm:rights"), {_RES: ctx.edm_rights})
    return root


def _fallback_languages(view: RecordView) -> list[str]:
    """dc:language when the record does not state its original's language (EDM requires one for TEXT):
    the language of the translation it publishes (the text its landing page shows), else ``und``
    (ISO 639-2 "undetermined")."""
    codes = {view.language_code(lang) for tr in view.values(CRM + "P73_has_translation")
             if isinstance(tr, ox.NamedNode) for lang in view.about(tr.value).get(CRM + "P72_has_language", ())}
    return sorted(codes) or ["und"]


def _contextual_class(view: RecordView, iri: str) -> str | None:
    """The EDM contextual class of an entity the record graph labels (people, places, concepts)."""
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


def render_rdf(view: RecordView, ctx: Context) -> etree._Element:
    """The record graph as RDF/XML (pyoxigraph writes it; literals made XML-safe first)."""
    triples = sorted((ox.Triple(t.subject, t.predicate, _xml_safe(t.object)) for t in view.source.quads()),
                     key=lambda t: (t.subject.value, t.predicate.value, _order(t.object)))
    data = ox.serialize(triples, format=ox.RdfFormat.RDF_XML, prefixes=_RDF_PREFIXES)
    return etree.fromstring(data, etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True))


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
