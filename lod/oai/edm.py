"""EDM (Europeana Data Model) for one record: one edm:ProvidedCHO, one ore:Aggregation, and the
agents, places and concepts the record graph describes as contextual resources (docs/oai.md)."""

from __future__ import annotations

import re

import pyoxigraph as ox
from lxml import etree

from lod.oai import xmlout as x
from lod.oai.view import (
    CRM,
    DC,
    DCMITYPE,
    DCT,
    EDM,
    ORE,
    OWL,
    RDF,
    SKOS,
    Context,
    RecordView,
)

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
_NAMESPACES = x.namespaces(_EDM_NS)
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


def render_edm(view: RecordView, ctx: Context) -> bytes:
    """The record as EDM RDF/XML, serialised (lod.oai.xmlout: the bytes lxml would write)."""
    document = view.document
    cho: list[str] = []
    written: set[str] = set()           # CHO properties written
    contextual: dict[str, str] = {}     # IRI -> EDM contextual class, in first-use order
    for name, preds in _CHO:
        seen: set[str] = set()
        for term in view.values(*preds):
            if name == "dc:language":
                text, lang = view.language_code(term), ""
            elif isinstance(term, ox.NamedNode) and name != "dc:identifier":
                if term.value not in seen:
                    seen.add(term.value)
                    cho.append(x.resource(name, term.value))
                    written.add(name)
                    cls = _contextual_class(view, term.value)
                    if cls:
                        contextual.setdefault(term.value, cls)
                continue
            else:
                text, lang = view.text(term, keep_iri=True)
            if text and text not in seen:
                seen.add(text)
                cho.append(x.leaf(name, text, lang))
                written.add(name)
    if "dc:language" not in written:
        cho.extend(x.leaf("dc:language", code) for code in _fallback_languages(view))
    if "dc:type" not in written:    # every record is a text document: say so in DCMI terms
        cho.append(x.resource("dc:type", DCMITYPE + "Text"))
    cho.append(x.leaf("edm:type", "TEXT"))
    out = [f"<rdf:RDF{_NAMESPACES}>", f'<edm:ProvidedCHO rdf:about="{x.attr(document)}">', *cho,
           "</edm:ProvidedCHO>"]
    for iri, cls in contextual.items():
        lab = view.label(iri)
        out.append(f'<{cls} rdf:about="{x.attr(iri)}">')
        out.append(x.leaf("skos:prefLabel", iri) if lab is None else
                   x.leaf("skos:prefLabel", lab.value, lab.language or ""))
        out.extend(x.resource("owl:sameAs", same) for same in view.same_as(iri))
        out.append(f"</{cls}>")
    out += [f'<ore:Aggregation rdf:about="{x.attr(document + "#aggregation")}">',
            x.resource("edm:aggregatedCHO", document),
            x.leaf("edm:dataProvider", ctx.publisher),
            x.resource("edm:isShownAt", ctx.landing_page(document)),
            x.leaf("edm:provider", ctx.publisher),
            x.resource("edm:rights", ctx.edm_rights),
            "</ore:Aggregation></rdf:RDF>"]
    return x.finish(out)


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
