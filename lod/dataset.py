"""The dataset as a whole, without Flask: VoID + DCAT description, statistics, sitemap, robots.txt,
and the browse/search listings of the HTML home.

Statistics are whole-store counts: the build keeps them (lod.statistics) in the catalog.
Every value put into a SPARQL query here is a term printed by pyoxigraph (escaped), never raw text.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar
from xml.sax.saxutils import escape

import pyoxigraph as ox

from lod.mapping.namespaces import CRM, DCT, OWL, RDF, RDFS, XSD
from lod.render import DCAT, FOAF, VOID
from lod.statistics import ENTITY_KINDS, Stats, count_of, scan
from lod.uris import Minter, iri_to_uri

VOCABULARIES = (CRM, DCT, RDFS, OWL, "http://www.w3.org/2004/02/skos/core#", "http://www.w3.org/ns/prov#",
                FOAF, VOID, DCAT)
SITEMAP_MAX = 50000
DATE_RE = re.compile(r"^\d{4}(-\d{2}(-\d{2})?)?$")


T = TypeVar("T")
_per_build_cache: dict[tuple[int, str, str], Any] = {}
_lock = threading.Lock()


def _per_build(store: Any, base: str, what: str, compute: Callable[[], T]) -> T:
    """``compute()`` once per store, published build and base: nothing in a published build changes."""
    meta = store.catalog.meta() if getattr(store, "catalog", None) is not None else {}
    build = getattr(getattr(store, "build", None), "name", "remote")
    key = (id(store), what, f"{build}\0{base}\0{meta.get('built_at', '')}")
    with _lock:
        if key in _per_build_cache:
            return _per_build_cache[key]
    value = compute()
    with _lock:
        if len(_per_build_cache) > 32:
            _per_build_cache.clear()
        _per_build_cache[key] = value
    return value


def statistics(store: Any, base: str) -> Stats:
    """Counts over the published build: those the build kept (lod.statistics), else counted by reading
    the whole store (a remote store, a build made before builds kept them); either once per build."""
    return _per_build(store, base, "stats", lambda: _kept_stats(store, base) or scan(store, base))


def _kept_stats(store: Any, base: str) -> Stats | None:
    meta = store.catalog.meta() if getattr(store, "catalog", None) is not None else {}
    if meta.get("stats") and meta.get("base_uri") == base:
        try:
            return Stats.from_json(meta["stats"])
        except (ValueError, TypeError):
            pass                                  # unreadable: count them instead
    return None


def void_iri(base: str) -> str:
    return base + ".well-known/void"


def description(store: Any, settings: Any, minter: Any) -> list[ox.Triple]:
    """VoID and DCAT(-AP) description of the dataset, its dumps, SPARQL and OAI-PMH services."""
    base = settings.base_uri
    stats = statistics(store, base)
    meta = store.catalog.meta() if getattr(store, "catalog", None) is not None else {}
    N, L = ox.NamedNode, ox.Literal
    ds = N(minter.dataset)
    doc = N(void_iri(base))
    catalog = N(base + "catalog")
    out: list[ox.Triple] = []

    def add(s: Any, p: str, o: Any) -> None:
        out.append(ox.Triple(s, N(p), o))

    def integer(n: int) -> ox.Literal:
        return L(str(n), datatype=N(XSD + "integer"))

    add(doc, RDF + "type", N(VOID + "DatasetDescription"))
    add(doc, FOAF + "primaryTopic", ds)
    add(doc, DCT + "title", L(f"VoID description of {settings.dataset_title}", language="en"))
    for t in (VOID + "Dataset", DCAT + "Dataset"):
        add(ds, RDF + "type", N(t))
    add(ds, DCT + "title", L(settings.dataset_title, language="en"))
    add(ds, RDFS + "label", L(settings.dataset_title, language="en"))
    add(ds, DCT + "description", L("Cold War diplomatic documents described with CIDOC-CRM 7.1.3 and Dublin "
                                   "Core, linked to Wikidata.", language="en"))
    publisher = N(base + "id/dataset#publisher")
    add(ds, DCT + "publisher", publisher)
    add(publisher, RDF + "type", N(FOAF + "Organization"))
    add(publisher, FOAF + "name", L(settings.publisher))
    add(ds, DCT + "license", N(settings.licence))
    if meta.get("built_at"):
        add(ds, DCT + "modified", L(meta["built_at"], datatype=N(XSD + "dateTime")))
    add(ds, FOAF + "homepage", N(base))
    add(ds, VOID + "uriSpace", L(base + "id/"))
    add(ds, VOID + "triples", integer(stats.triples))
    add(ds, VOID + "entities", integer(stats.entities))
    add(ds, VOID + "classes", integer(len(stats.classes)))
    add(ds, VOID + "documents", integer(stats.documents))
    for v in VOCABULARIES:
        add(ds, VOID + "vocabulary", N(v))
    add(ds, VOID + "sparqlEndpoint", N(base + "sparql"))
    for ext, media in (("nt", "application/n-triples"), ("ttl", "text/turtle")):
        dump = N(f"{base}dumps/dataset.{ext}.gz")
        add(ds, VOID + "dataDump", dump)
        add(ds, DCAT + "distribution", dump)
        add(dump, RDF + "type", N(DCAT + "Distribution"))
        add(dump, DCAT + "downloadURL", dump)
        add(dump, DCAT + "mediaType", N(f"https://www.iana.org/assignments/media-types/{media}"))
        add(dump, DCAT + "compressFormat", N("https://www.iana.org/assignments/media-types/application/gzip"))
        add(dump, DCT + "license", N(settings.licence))
    first = _first_document(store, base)
    if first:
        add(ds, VOID + "exampleResource", N(first))
    for i, (cls, n) in enumerate(sorted(stats.classes.items())):
        part = N(f"{void_iri(base)}#class-{i}")
        add(ds, VOID + "classPartition", part)
        add(part, VOID + "class", N(cls))
        add(part, VOID + "entities", integer(n))
    wikidata = N("http://www.wikidata.org/")
    add(wikidata, RDF + "type", N(VOID + "Dataset"))
    add(wikidata, FOAF + "homepage", N("https://www.wikidata.org/"))
    for kind, n in sorted(stats.linksets.items()):
        ls = N(f"{void_iri(base)}#wikidata-{kind}")
        add(ds, VOID + "subset", ls)
        add(ls, RDF + "type", N(VOID + "Linkset"))
        add(ls, DCT + "title", L(f"{kind.capitalize()} linked to Wikidata", language="en"))
        add(ls, VOID + "linkPredicate", N(OWL + "sameAs"))
        add(ls, VOID + "subjectsTarget", ds)
        add(ls, VOID + "objectsTarget", wikidata)
        add(ls, VOID + "triples", integer(n))
    # DCAT catalog with the data services
    add(catalog, RDF + "type", N(DCAT + "Catalog"))
    add(catalog, DCT + "title", L(f"Catalog of {settings.dataset_title}", language="en"))
    add(catalog, DCT + "publisher", publisher)
    add(catalog, DCT + "license", N(settings.licence))
    add(catalog, DCAT + "dataset", ds)
    for path, title, conforms in (("sparql", "SPARQL 1.1 endpoint", "https://www.w3.org/TR/sparql11-protocol/"),
                                  ("oai", "OAI-PMH 2.0 repository",
                                   "http://www.openarchives.org/OAI/2.0/openarchivesprotocol.htm")):
        svc = N(base + path)
        add(catalog, DCAT + "service", svc)
        add(svc, RDF + "type", N(DCAT + "DataService"))
        add(svc, DCT + "title", L(title, language="en"))
        add(svc, DCAT + "endpointURL", svc)
        add(svc, DCT + "conformsTo", N(conforms))
        add(svc, DCAT + "servesDataset", ds)
    return out


def _first_document(store: Any, base: str) -> str | None:
    cat = getattr(store, "catalog", None)
    if cat is None:
        return None
    for e in cat.all():
        if not e.deleted:
            return f"{base}id/document/{e.key}"
    return None


# ----------------------------------------------------------------------------------- sitemap, robots
def sitemap_urls(store: Any, base: str, describer: Any) -> list[tuple[str, str]]:
    """(HTML page URL, lastmod) of every published document and every person/place/organisation."""
    urls: list[tuple[str, str]] = []
    cat = getattr(store, "catalog", None)
    if cat is not None:
        for e in cat.all():
            if not e.deleted:
                iri = f"{base}id/document/{e.key}"
                urls.append((iri_to_uri(describer.doc_url(iri) + ".html"), e.datestamp[:10]))
    prefix = str(ox.Literal(base + "id/"))
    kinds = "|".join(ENTITY_KINDS)
    for row in store.query(
            f"SELECT DISTINCT ?s WHERE {{ GRAPH <{base}graph/authority> {{ ?s a ?c }} "
            f"FILTER(STRSTARTS(STR(?s), {prefix}) && REGEX(STR(?s), \"/id/({kinds})/\")) }} ORDER BY ?s"):
        urls.append((iri_to_uri(describer.doc_url(row["s"].value) + ".html"), ""))
    return urls


_ENTITIES = {"'": "&apos;", '"': "&quot;"}


def sitemap_xml(urls: list[tuple[str, str]]) -> str:
    lines = ['<?xml version="1.0" encoding="UTF-8"?>',
             '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">']
    for loc, lastmod in urls:
        lm = f"<lastmod>{escape(lastmod)}</lastmod>" if lastmod else ""
        lines.append(f"<url><loc>{escape(loc, _ENTITIES)}</loc>{lm}</url>")
    lines.append("</urlset>")
    return "\n".join(lines) + "\n"


def sitemap_index(base: str, parts: int) -> str:
    lines = ['<?xml version="1.0" encoding="UTF-8"?>',
             '<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">']
    lines += [f"<sitemap><loc>{escape(base)}sitemap-{i + 1}.xml</loc></sitemap>" for i in range(parts)]
    lines.append("</sitemapindex>")
    return "\n".join(lines) + "\n"


def robots_txt(base: str) -> str:
    return ("User-agent: *\nAllow: /\n"
            "# query services are for programs, not crawlers\nDisallow: /sparql\nDisallow: /oai\n"
            f"Sitemap: {base}sitemap.xml\n")


# ----------------------------------------------------------------------------------- browse / search
def page_count(total: int, page_size: int) -> int:
    """Pages of ``page_size`` holding ``total`` entries; an empty listing is still one page."""
    return max(1, -(-total // page_size))


@dataclass
class Hit:
    iri: str
    title: str
    date: str


@dataclass
class SearchResult:
    hits: list[Hit]
    total: int
    page: int
    pages: int


class SearchError(ValueError):
    """A bad search parameter; ``param`` names it."""

    def __init__(self, param: str, message: str) -> None:
        self.param = param
        super().__init__(f"parameter {param}: {message}")


def search(store: Any, base: str, *, title: str = "", person: str = "", date_from: str = "",
           date_to: str = "", page: int = 1, page_size: int = 50) -> SearchResult:
    """Documents by title words, person (name or IRI) and date range, ordered by date."""
    for name, value in (("from", date_from), ("to", date_to)):
        if value and not DATE_RE.match(value):
            raise SearchError(name, "a date YYYY, YYYY-MM or YYYY-MM-DD is expected")
    for name, value in (("title", title), ("person", person)):
        if len(value) > 200:
            raise SearchError(name, "at most 200 characters")
    if page < 1:
        raise SearchError("page", "a positive integer is expected")
    if not person.strip():
        listed = _listing(store, base, page, page_size, title.strip(), date_from, date_to)
        if listed is not None:
            return listed
    where = [f"?doc a <{CRM}E31_Document> ; <{DCT}title> ?title .",
             f"OPTIONAL {{ ?doc <{DCT}date> ?date }}"]
    if title.strip():
        where.append(f"FILTER(CONTAINS(LCASE(STR(?title)), LCASE({ox.Literal(title.strip())})))")
    if person.strip():
        p = person.strip()
        if p.startswith(base + "id/"):
            match = f"FILTER(?who = {ox.NamedNode(p)})"
        else:
            match = (f"?who <{RDFS}label>|<http://www.w3.org/2004/02/skos/core#altLabel> ?name "
                     f"FILTER(CONTAINS(LCASE(STR(?name)), LCASE({ox.Literal(p)})))")
        where.append("{ SELECT DISTINCT ?doc WHERE { "
                     f"{{ ?doc <{CRM}P67_refers_to>|<{DCT}creator>|<{DCT}contributor> ?who }} UNION "
                     f"{{ ?doc <{CRM}P70_documents>/<{CRM}P11_had_participant> ?who }} "
                     f"?who a ?kind . {match} }} }}")
    if date_from:
        where.append(f"FILTER(BOUND(?date) && STR(?date) >= {ox.Literal(date_from)})")
    if date_to:
        where.append(f"FILTER(BOUND(?date) && SUBSTR(STR(?date), 1, {len(date_to)}) <= {ox.Literal(date_to)})")
    body = " ".join(where)
    total = count_of(next(iter(store.query(f"SELECT (COUNT(DISTINCT ?doc) AS ?n) WHERE {{ {body} }}")))["n"])
    rows = store.query(
        f"SELECT ?doc (SAMPLE(?title) AS ?t) (MIN(STR(?date)) AS ?d) WHERE {{ {body} }} GROUP BY ?doc "
        f"ORDER BY ?d ?doc LIMIT {page_size} OFFSET {(page - 1) * page_size}")
    hits = [Hit(r["doc"].value, r["t"].value if r["t"] else "", r["d"].value if r["d"] else "") for r in rows]
    return SearchResult(hits=hits, total=total, page=page, pages=page_count(total, page_size))


def _listing(store: Any, base: str, page: int, page_size: int, words: str, date_from: str,
             date_to: str) -> SearchResult | None:
    """Documents by title words and dates from the catalog (every home page is one); None where the
    catalog cannot answer (a remote store, an older build), and the query below does."""
    listing = getattr(getattr(store, "catalog", None), "listing", None)
    found = listing(offset=(page - 1) * page_size, limit=page_size, words=words, date_from=date_from,
                    date_to=date_to) if listing is not None else None
    if found is None:
        return None
    total, rows = found
    minter = Minter(base)
    hits = [Hit(minter.document(key), title, date) for key, title, date in rows]
    return SearchResult(hits=hits, total=total, page=page, pages=page_count(total, page_size))


@dataclass
class PeoplePage:
    rows: list[tuple[str, str, int]]   # (IRI, label, number of documents)
    total: int
    page: int
    pages: int


def people_page(store: Any, base: str, *, name: str = "", page: int = 1, page_size: int = 200) -> PeoplePage:
    """One page of the people index, optionally only the entries whose label contains ``name`` (any case).

    Why pages: the index grows with the archive (3,064 entries at 10,000 generated records); one
    page listing all of them is a slow page to render and to read. The catalog answers a page with an
    index walk; a store without it (remote, older build) is read whole once and sliced."""
    if len(name) > 200:
        raise SearchError("name", "at most 200 characters")
    if page < 1:
        raise SearchError("page", "a positive integer is expected")
    words, offset = name.strip().lower(), (page - 1) * page_size
    cat = getattr(store, "catalog", None)
    paged = getattr(cat, "people_page", None)
    found = (paged(offset=offset, limit=page_size, words=words)
             if paged is not None and cat.meta().get("base_uri") == base else None)
    if found is None:
        rows = [r for r in people(store, base) if words in r[1].lower()]
        found = len(rows), rows[offset:offset + page_size]
    total, rows = found
    return PeoplePage(rows=rows, total=total, page=page, pages=page_count(total, page_size))


def people(store: Any, base: str) -> list[tuple[str, str, int]]:
    """(IRI, label, number of documents) of every person, organisation and place, by label: as the build
    kept them, else by a query that reads every mention in the store."""
    kept = getattr(getattr(store, "catalog", None), "people", None)
    rows = kept() if kept is not None and store.catalog.meta().get("base_uri") == base else None
    if rows is not None:
        return rows
    # once per build: every page of /browse/people and every name filter reads this whole answer
    return _per_build(store, base, "people", lambda: _queried_people(store, base))


def _queried_people(store: Any, base: str) -> list[tuple[str, str, int]]:
    prefix = str(ox.Literal(base + "id/"))
    rows = store.query(
        f"SELECT ?who (SAMPLE(?l) AS ?label) (COUNT(DISTINCT ?doc) AS ?n) WHERE {{ "
        f"GRAPH <{base}graph/authority> {{ ?who <{RDFS}label> ?l }} "
        f"FILTER(STRSTARTS(STR(?who), {prefix})) "
        f"OPTIONAL {{ {{ ?doc <{CRM}P67_refers_to> ?who }} UNION "
        f"{{ ?doc <{CRM}P70_documents>/<{CRM}P11_had_participant> ?who }} }} }} GROUP BY ?who ORDER BY ?label")
    return [(r["who"].value, r["label"].value, count_of(r["n"])) for r in rows]
