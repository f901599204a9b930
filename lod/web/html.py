"""HTML pages of descriptions: a document page a historian reads, a person page, a generic page.

Everything shown comes from the description's triples (lod.describe), so the page and the data
never disagree. Literals are escaped by Jinja's autoescape (or :func:`_esc`, the same, where the page's
lists and text are written here); only http(s) IRIs become links (:func:`href`); the embedded JSON-LD
cannot close its <script> element (:func:`embed_json`; lod.web.html_index writes the same bytes).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

from flask import current_app
from markupsafe import Markup

from lod.describe import Description
from lod.mapping.namespaces import CRM, DCT, OWL, RDFS, SKOS
from lod.render import FORMATS, RDF_TYPE, compact
from lod.web.html_index import Lines, term

try:  # what re's IGNORECASE equates beyond lower() (ı~i, ſ~s, ς~σ, µ~μ...): link_mentions matches as re does
    from re._casefix import _EXTRA_CASES
except ImportError:  # pragma: no cover - tests/test_html_mentions.py checks the fold against re itself
    _EXTRA_CASES = {}

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


class Index(Lines):
    """The description's triples (lod.web.html_index), with labels and links as the pages show them."""

    def label(self, iri: str) -> str:
        memo = self.memo(iri)           # the same people and types recur in several lists, and on many pages
        found = memo.get("label")
        if found is None:
            found = memo["label"] = (self.text(iri, RDFS + "label", SKOS + "prefLabel", DCT + "title")
                                     or compact(iri))
        return found

    def link(self, iri: str) -> dict[str, Any]:
        """What a page shows of a linked resource, and its HTML (the same dict each time: don't change it)."""
        memo = self.memo(iri)
        found = memo.get("link")
        if found is None:
            wd = [o for o in self.iris(iri, OWL + "sameAs") if o.startswith(WD)]
            found = {"iri": iri, "href": href(iri), "label": self.label(iri),
                     "wikidata": wd[0] if wd else None}
            found["html"] = _link_html(found)
            memo["link"] = found
        return found

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


_FOLD_TO = {c: min(c, *same) for c, same in _EXTRA_CASES.items() if min(c, *same) != c}
_FOLD_FROM = "".join(map(chr, _FOLD_TO))


def fold(text: str) -> str:
    """``text`` with each character replaced by one of the characters re.IGNORECASE takes for it (its
    lower case, and ı→i, ſ→s, ς→σ...): the same length, so a position in it is a position in ``text``."""
    if text.isascii():
        return text.lower()
    folded = text.replace("\u0130", "i").lower()   # İ lowers to two characters; re takes it for "i"
    if any(c in folded for c in _FOLD_FROM):
        folded = folded.translate(_FOLD_TO)
    return folded


def _word(c: str) -> bool:
    """re's \\w for str patterns."""
    return c.isalnum() or c == "_"


def link_mentions(text: str, names: dict[str, list[str]], ix: Index) -> list[Segment]:
    """Split ``text`` into plain runs and runs naming a referred-to entity: whole words, case-insensitive,
    leftmost first and at one place the longest name first, as one ``(?<!\\w)(name|...)(?!\\w)`` regex
    did (compiling that regex for every page cost more than the rest of the page: names are found with
    str.find in the folded text instead)."""
    by_name: dict[str, str] = {}
    for iri, variants in names.items():
        for v in variants:
            v = v.strip()
            if len(v) >= 3 and "," not in v:       # "Liu, Shaoqi" is a catalogue form, not running text
                by_name.setdefault(v.lower(), iri)
    if not by_name or not text:
        return [Segment(text)]
    folded, n = fold(text), len(text)
    found: dict[int, tuple[int, str]] = {}         # start -> (end, name): the first (longest) name there
    tried: set[str] = set()
    for name in sorted(by_name, key=len, reverse=True):
        key = fold(name)
        if key in tried:                           # an earlier name matches wherever this one does
            continue
        tried.add(key)
        i = folded.find(key)
        while i >= 0:
            end = i + len(key)
            if i not in found and (i == 0 or not _word(text[i - 1])) and (end == n or not _word(text[end])):
                found[i] = (end, name)
            i = folded.find(key, i + 1)
    out, pos = [], 0
    for i in sorted(found):
        if i < pos:                                # inside the previous mention
            continue
        end, name = found[i]
        if i > pos:
            out.append(Segment(text[pos:i]))
        out.append(Segment(text[i:end], ix.link(by_name.get(text[i:end].lower(), by_name[name]))))
        pos = end
    if pos < n:
        out.append(Segment(text[pos:]))
    return out


def _esc(text: str) -> str:
    """markupsafe.escape (Jinja's autoescape) as a plain str: no Markup object per piece of a page."""
    return (text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&#34;")
            .replace("'", "&#39;"))


def mentions_html(segments: list[Segment]) -> Markup:
    """The text with its mentions as links (what a Jinja loop over the segments wrote, written once)."""
    return Markup("".join(
        f'<a class="mention" href="{_esc(seg.link["href"])}">{_esc(seg.text)}</a>'
        if seg.link and seg.link["href"] else _esc(seg.text) for seg in segments))


def _link_html(e: dict[str, Any]) -> str:
    """_macros.html's link(e), written in Python: a page lists many people, types and languages."""
    label = _esc(e["label"])
    html = f'<a href="{_esc(e["href"])}">{label}</a>' if e["href"] else label
    wd = e["wikidata"]
    if wd and href(wd):
        html += f' <a class="wd" href="{_esc(wd)}" title="Wikidata">{_esc(wd.rsplit("/", 1)[-1])}</a>'
    return html


def link_html(e: dict[str, Any]) -> str:
    return e.get("html") or _link_html(e)       # Index.link wrote it already


def links_html(items: Iterable[dict[str, Any]]) -> Markup:
    return Markup("; ".join(map(link_html, items)))


_LINK_LISTS = ("types", "authors", "addressees", "participants", "present", "languages", "obtained_by",
               "translated_by", "subjects", "funders")


@dataclass
class Page:
    desc: Description
    ix: Index
    title: str
    downloads: list[SimpleNamespace]
    jsonld: str
    facts: Any = field(default_factory=dict)     # a dict; a namespace on document pages


def _downloads(desc: Description) -> list[SimpleNamespace]:
    q = "" if desc.page == 1 else f"?page={desc.page}"
    return [SimpleNamespace(label=f.label, type=f.media_type, href=f"{desc.doc_url}.{f.ext}{q}")
            for f in FORMATS]


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
        "conversation": [SimpleNamespace(label=ix.label(ev), date=_timespan(ix, ev),
                                         note=ix.text(ev, CRM + "P3_has_note")) for ev in events],
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
    names = ix.literals(t, RDFS + "label", SKOS + "prefLabel")
    variants = ix.literals(t, SKOS + "altLabel")
    wikidata = [o for o in ix.iris(t, OWL + "sameAs") if o.startswith(WD)]
    born = died = ""
    for q in wikidata:
        born = born or ix.text(q, WDT + "P569")
        died = died or ix.text(q, WDT + "P570")
        variants += ix.literals(q, RDFS + "label")
    docs = []
    for d in desc.inverse_docs:
        roles = {compact(p) for p in ix.predicates(d) if t in ix.iris(d, p)}
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
    for p, objs in sorted(ix.predicates(desc.thing).items()):
        if p == RDF_TYPE:
            continue
        vals = []
        for o in objs:
            if o[0] == "<":
                vals.append(ix.link(o[1:-1]))
            else:
                vals.append({"label": term(o)[0], "href": None, "iri": None, "wikidata": None})
        rows.append({"predicate": compact(p), "predicate_href": href(p), "values": vals})
    inverse = [ix.link(d) for d in desc.inverse_docs]
    return {"rows": rows, "types": [ix.link(t) for t in ix.iris(desc.thing, RDF_TYPE)], "inverse": inverse}


def render_description(desc: Description) -> str:
    settings = current_app.config["LOD_SETTINGS"]
    base = settings.base_uri
    ix = Index.of(desc)
    page = Page(desc=desc, ix=ix, title=ix.label(desc.thing), downloads=_downloads(desc),
                jsonld=ix.jsonld(base + "context.jsonld"))
    if desc.kind == "document":
        facts = document_facts(desc, ix, base)
        from lod.web.resources import state
        names = state().describer.variants([r["iri"] for r in facts["referred"]])
        facts["text"] = link_mentions(facts["body"], names, ix)
        facts["text_html"] = mentions_html(facts["text"])
        for key in _LINK_LISTS:             # written here: a call from the template costs more than the HTML
            facts[key + "_html"] = links_html(facts[key])
        facts["referred_html"] = Markup("".join(f"<li>{link_html(e)}</li>" for e in facts["referred"]))
        page.facts = SimpleNamespace(**facts)   # attributes: Jinja's f.date is a getattr first
        template = "document.html"
    elif desc.kind in ENTITY_KINDS:
        page.facts = entity_facts(desc, ix)
        template = "entity.html"
    else:
        page.facts = generic_facts(desc, ix)
        template = "resource.html"
    # Jinja itself, not flask.render_template: these templates read no request, session or g, and Flask's
    # context for them (the session opened, signals sent) cost a tenth of the page
    return current_app.jinja_env.get_template(template).render(
        page=page, desc=desc, settings=settings, base=base, kind=desc.kind, href=href)
