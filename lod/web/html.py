"""HTML pages of descriptions: a document page a historian reads, a person page, a generic page.

Everything shown comes from the description's triples (lod.describe), so the page and the data
never disagree. Literals are escaped by Jinja's autoescape; only http(s) IRIs become links
(:func:`href`); the embedded JSON-LD cannot close its <script> element (:func:`embed_json`).
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import pyoxigraph as ox
from flask import current_app, render_template

from lod.describe import Description
from lod.mapping.namespaces import CRM, DCT, OWL, RDFS, SKOS
from lod.render import FORMATS, RDF_TYPE, compact, jsonld_object

WD = "http://www.wikidata.org/entity/"
WDT = "http://www.wikidata.org/prop/direct/"
ENTITY_KINDS = ("person", "place", "organization", "group")


def href(iri: str | None) -> str | None:
    """The IRI if it may be a link (http or https), else None: never javascript:, data:, file:."""
    if not iri:
        return None
    low = iri.strip().lower()
    return iri if low.startswith(("http://", "https://")) else None


def embed_json(obj: Any) -> str:
    """JSON for a <script type="application/ld+json"> block: '<', '>', '&' escaped as \\u00XX."""
    text = json.dumps(obj, ensure_ascii=False, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


class Index:
    """The description's triples, indexed both ways, with label lookup."""

    def __init__(self, triples: list[ox.Triple]) -> None:
        self.out: dict[str, dict[str, list[Any]]] = defaultdict(lambda: defaultdict(list))
        self.inc: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
        # RDF has no order: sort, so a page is the same whatever order the store (embedded or remote) returns
        for t in sorted(triples, key=lambda t: (t.subject.value, t.predicate.value, str(t.object))):
            s = t.subject.value
            self.out[s][t.predicate.value].append(t.object)
            if isinstance(t.object, ox.NamedNode):
                self.inc[t.object.value][t.predicate.value].append(s)

    def objs(self, s: str, p: str) -> list[Any]:
        return self.out.get(s, {}).get(p, [])

    def iris(self, s: str, p: str) -> list[str]:
        return [o.value for o in self.objs(s, p) if isinstance(o, ox.NamedNode)]

    def subjects(self, p: str, o: str) -> list[str]:
        return self.inc.get(o, {}).get(p, [])

    def text(self, s: str, *preds: str) -> str:
        """First literal of the first predicate that has one (English or untagged preferred)."""
        for p in preds:
            lits = [o for o in self.objs(s, p) if isinstance(o, ox.Literal)]
            lits.sort(key=lambda lit: (lit.language not in (None, "en"), lit.value))
            if lits:
                return lits[0].value
        return ""

    def label(self, iri: str) -> str:
        return self.text(iri, RDFS + "label", SKOS + "prefLabel", DCT + "title") or compact(iri)

    def link(self, iri: str) -> dict[str, Any]:
        wd = [o for o in self.iris(iri, OWL + "sameAs") if o.startswith(WD)]
        return {"iri": iri, "href": href(iri), "label": self.label(iri), "wikidata": wd[0] if wd else None}

    def typed_activities(self, type_iri: str) -> list[str]:
        return [s for s in self.subjects(CRM + "P2_has_type", type_iri)]


def _timespan(ix: Index, owner: str) -> str:
    for ts in ix.iris(owner, CRM + "P4_has_time-span"):
        begin = ix.text(ts, CRM + "P82a_begin_of_the_begin")[:10]
        end = ix.text(ts, CRM + "P82b_end_of_the_end")[:10]
        if begin and end:
            return begin if begin == end else f"{begin} – {end}"
        return begin or end
    return ""


@dataclass
class Segment:
    text: str
    link: dict[str, Any] | None = None


def link_mentions(text: str, names: dict[str, list[str]], ix: Index) -> list[Segment]:
    """Split ``text`` into plain runs and runs naming a referred-to entity (longest name first)."""
    by_name: dict[str, str] = {}
    for iri, variants in names.items():
        for v in variants:
            v = v.strip()
            if len(v) >= 3 and "," not in v:       # "Liu, Shaoqi" is a catalogue form, not running text
                by_name.setdefault(v.lower(), iri)
    if not by_name or not text:
        return [Segment(text)]
    pattern = re.compile(r"(?<!\w)(" + "|".join(re.escape(n) for n in sorted(by_name, key=len, reverse=True))
                         + r")(?!\w)", re.IGNORECASE)
    out, pos = [], 0
    for m in pattern.finditer(text):
        if m.start() > pos:
            out.append(Segment(text[pos:m.start()]))
        out.append(Segment(m.group(0), ix.link(by_name[m.group(0).lower()])))
        pos = m.end()
    if pos < len(text):
        out.append(Segment(text[pos:]))
    return out


@dataclass
class Page:
    desc: Description
    ix: Index
    title: str
    downloads: list[dict[str, str]]
    jsonld: str
    facts: dict[str, Any] = field(default_factory=dict)


def _downloads(desc: Description) -> list[dict[str, str]]:
    q = "" if desc.page == 1 else f"?page={desc.page}"
    return [{"label": f.label, "type": f.media_type, "href": f"{desc.doc_url}.{f.ext}{q}"} for f in FORMATS]


def _roles(ix: Index, base: str, role: str) -> list[dict[str, Any]]:
    people: list[str] = []
    for act in ix.typed_activities(f"{base}vocab/role/{role}"):
        people += ix.iris(act, CRM + "P14_carried_out_by") + ix.iris(act, CRM + "P11_had_participant")
    return [ix.link(p) for p in dict.fromkeys(people)]


def document_facts(desc: Description, ix: Index, base: str) -> dict[str, Any]:
    d = desc.thing
    creations = ix.iris(d, CRM + "P94i_was_created_by")
    events = ix.iris(d, CRM + "P70_documents")
    translations = ix.iris(d, CRM + "P73_has_translation")
    translators: list[str] = []
    for tr in translations:
        for c in ix.iris(tr, CRM + "P94i_was_created_by"):
            translators += ix.iris(c, CRM + "P14_carried_out_by")
    participants: list[str] = []
    for ev in events:
        participants += ix.iris(ev, CRM + "P11_had_participant")
    funders = ix.typed_activities(f"{base}vocab/role/funder")
    present = [e["iri"] for e in _roles(ix, base, "present")]
    body = ""
    for tr in translations:
        body = body or ix.text(tr, CRM + "P190_has_symbolic_content")
    body = body or ix.text(d, CRM + "P190_has_symbolic_content")
    referred = [ix.link(r) for r in ix.iris(d, CRM + "P67_refers_to")]
    return {
        "date": ix.text(d, DCT + "date"),
        "created": "".join(_timespan(ix, c) for c in creations[:1]),
        "conversation": [{"label": ix.label(ev), "date": _timespan(ix, ev), "note": ix.text(ev, CRM + "P3_has_note")}
                         for ev in events],
        "types": [ix.link(t) for t in ix.iris(d, CRM + "P2_has_type")],
        "authors": [ix.link(a) for c in creations for a in ix.iris(c, CRM + "P14_carried_out_by")],
        "addressees": _roles(ix, base, "addressee"),
        "participants": [ix.link(p) for p in dict.fromkeys(participants) if p not in present],
        "present": [ix.link(p) for p in present],
        "citation": ix.text(d, DCT + "bibliographicCitation"),
        "obtained_by": _roles(ix, base, "obtainer"),
        "translated_by": [ix.link(t) for t in dict.fromkeys(translators)],
        "summary": ix.text(d, DCT + "description", CRM + "P3_has_note"),
        "body": body,
        "referred": referred,
        "languages": [ix.link(lang) for lang in ix.iris(d, CRM + "P72_has_language")],
        "subjects": [ix.link(s) for s in ix.iris(d, CRM + "P129_is_about")],
        "rights": ix.text(d, DCT + "rights"),
        "credits": [ix.text(f, CRM + "P3_has_note") for f in funders if ix.text(f, CRM + "P3_has_note")],
        "funders": _roles(ix, base, "funder"),
        "source": [href(u) for u in ix.iris(d, RDFS + "seeAlso") if href(u)],
    }


def entity_facts(desc: Description, ix: Index) -> dict[str, Any]:
    t = desc.thing
    names = [o.value for o in ix.objs(t, RDFS + "label") + ix.objs(t, SKOS + "prefLabel")
             if isinstance(o, ox.Literal)]
    variants = [o.value for o in ix.objs(t, SKOS + "altLabel") if isinstance(o, ox.Literal)]
    wikidata = [o for o in ix.iris(t, OWL + "sameAs") if o.startswith(WD)]
    born = died = ""
    for q in wikidata:
        born = born or ix.text(q, WDT + "P569")
        died = died or ix.text(q, WDT + "P570")
        variants += [o.value for o in ix.objs(q, RDFS + "label") if isinstance(o, ox.Literal)]
    docs = []
    for d in desc.inverse_docs:
        roles = {compact(p) for p in ix.out.get(d, {}) if t in ix.iris(d, p)}
        for ev in ix.iris(d, CRM + "P70_documents"):
            if t in ix.iris(ev, CRM + "P11_had_participant"):
                roles.add("present at the conversation")
        for c in ix.iris(d, CRM + "P94i_was_created_by"):
            if t in ix.iris(c, CRM + "P14_carried_out_by"):
                roles.add("author")
        for act in ix.subjects(CRM + "P16_used_specific_object", d):
            if t in ix.iris(act, CRM + "P14_carried_out_by") + ix.iris(act, CRM + "P11_had_participant"):
                roles.update(ix.label(r) for r in ix.iris(act, CRM + "P2_has_type"))
        roles.discard("crm:P67_refers_to")
        docs.append({"iri": d, "href": href(d), "label": ix.label(d), "date": ix.text(d, DCT + "date"),
                     "roles": sorted(roles) or ["referred to"]})
    return {
        "names": list(dict.fromkeys(names)),
        "variants": [v for v in dict.fromkeys(variants) if v not in names],
        "wikidata": wikidata,
        "born": born, "died": died,
        "note": ix.text(t, RDFS + "comment", DCT + "description", SKOS + "note"),
        "documents": docs,
    }


def generic_facts(desc: Description, ix: Index) -> dict[str, Any]:
    rows = []
    for p, objs in sorted(ix.out.get(desc.thing, {}).items()):
        if p == RDF_TYPE:
            continue
        vals = []
        for o in objs:
            if isinstance(o, ox.NamedNode):
                vals.append(ix.link(o.value))
            else:
                vals.append({"label": o.value, "href": None, "iri": None, "wikidata": None})
        rows.append({"predicate": compact(p), "predicate_href": href(p), "values": vals})
    inverse = [ix.link(d) for d in desc.inverse_docs]
    return {"rows": rows, "types": [ix.link(t) for t in ix.iris(desc.thing, RDF_TYPE)], "inverse": inverse}


def render_description(desc: Description) -> str:
    settings = current_app.config["LOD_SETTINGS"]
    base = settings.base_uri
    ix = Index(desc.triples)
    page = Page(desc=desc, ix=ix, title=ix.label(desc.thing), downloads=_downloads(desc),
                jsonld=embed_json(jsonld_object(desc.triples, base + "context.jsonld")))
    if desc.kind == "document":
        page.facts = document_facts(desc, ix, base)
        from lod.web.resources import state
        referred = [r["iri"] for r in page.facts["referred"]]
        names = state().describer.variants(referred)
        page.facts["text"] = link_mentions(page.facts["body"], names, ix)
        template = "document.html"
    elif desc.kind in ENTITY_KINDS:
        page.facts = entity_facts(desc, ix)
        template = "entity.html"
    else:
        page.facts = generic_facts(desc, ix)
        template = "resource.html"
    return render_template(template, page=page, desc=desc, settings=settings, base=base,
                           kind=desc.kind, href=href)
