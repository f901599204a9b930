"""Harvesting the real build with a real harvester (sickle) over real HTTP on loopback.

Every response sickle receives is XSD-validated (OAI-PMH.xsd, oai_dc.xsd) before sickle parses it.
Data changes are made the way a curator makes them: edit or withdraw a YAML record file, run the build.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox
import pytest
import rdflib
import yaml
from conftest import DATA, Built, LiveServer, build_into, make_app
from lxml import etree
from oai_support import NS, valid
from rdflib.compare import isomorphic
from sickle import Sickle
from sickle.oaiexceptions import NoRecordsMatch

from lod.oai.formats import RecordView, StoreSource, edm_problems
from lod.oai.prepared import PREPARED, Prepared
from lod.oai.protocol import repository_identifier
from lod.store import Catalog, EmbeddedStore, Layout

PAGE = 4          # small pages: the bundled records take several requests


class ValidatingSickle(Sickle):
    """sickle, with every raw response checked against the schemas before sickle reads it."""

    responses = 0

    def harvest(self, **kwargs):  # noqa: ANN003, ANN201
        resp = super().harvest(**kwargs)
        assert resp.http_response.headers["Content-Type"].startswith("text/xml")
        valid(resp.http_response.content)
        ValidatingSickle.responses += 1
        return resp


@dataclass
class Site:
    server: LiveServer
    built: Built
    tmp: Path

    @property
    def url(self) -> str:
        return self.server.url + "oai"

    def sickle(self) -> ValidatingSickle:
        return ValidatingSickle(self.url, max_retries=0, timeout=30)

    def ident(self, key: str) -> str:
        return f"oai:{repository_identifier(self.built.base)}:{key}"

    def catalog(self) -> Catalog:
        return Catalog(Layout(self.built.store).current() / "catalog.sqlite", readonly=True)

    def rebuild(self) -> None:
        build_into(self.tmp, base=self.built.base, data=self.built.data)

    def record_file(self, key: str) -> Path:
        return self.built.data / "records" / f"{key}.yaml"


def serve(tmp: Path) -> Iterator[Site]:
    from werkzeug.serving import make_server

    probe = make_server("127.0.0.1", 0, lambda e, s: [])
    port = probe.server_port
    probe.server_close()
    b = build_into(tmp, base=f"http://127.0.0.1:{port}/")
    srv = LiveServer(make_app(b, oai_page_size=PAGE), port=port)
    try:
        yield Site(srv, b, tmp)
    finally:
        srv.close()


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """The bundled dataset, read-only, served with small OAI pages."""
    yield from serve(tmp_path_factory.mktemp("oai-site"))


@pytest.fixture
def changing(tmp_path: Path) -> Iterator[Site]:
    """A private copy of the data, built and served, for tests that edit records and rebuild."""
    yield from serve(tmp_path)


def headers(sickle: Sickle, verb: str = "ListIdentifiers", **args: str) -> list[tuple[str, str, bool]]:
    try:
        if verb == "ListIdentifiers":
            return [(h.identifier, h.datestamp, h.deleted) for h in sickle.ListIdentifiers(**args)]
        return [(r.header.identifier, r.header.datestamp, r.header.deleted) for r in sickle.ListRecords(**args)]
    except NoRecordsMatch:
        return []


def response_date(site: Site, **args: str) -> str:
    root = valid(site.sickle().harvest(**args).http_response.content)
    return root.findtext("o:responseDate", namespaces=NS)


# ----------------------------------------------------------------------------------- full harvests
@pytest.mark.parametrize("prefix", ["oai_dc", "edm", "rdf"])
def test_full_harvest_gets_every_record_exactly_once(site: Site, prefix: str) -> None:
    before = ValidatingSickle.responses
    got = headers(site.sickle(), "ListRecords", metadataPrefix=prefix)
    published = site.built.report.published
    assert len(published) >= 10
    assert sorted(g[0] for g in got) == sorted(site.ident(k) for k in published)
    assert len(got) == len(set(got))
    assert ValidatingSickle.responses - before >= len(published) // PAGE, "several pages"


def test_list_identifiers_matches_the_catalog(site: Site) -> None:
    cat = site.catalog()
    got = headers(site.sickle(), metadataPrefix="oai_dc")
    assert got == [(site.ident(e.key), e.datestamp, e.deleted) for e in cat.page(limit=10_000)]


def test_oai_dc_carries_the_records_facts(site: Site) -> None:
    rec = site.sickle().GetRecord(identifier=site.ident("116814"), metadataPrefix="oai_dc")
    md = rec.metadata
    assert md["title"] == ["Diary of Soviet Ambassador P.F. Yudin, Memorandum of Conversation with Liu Shaoqi "
                           "of 30 October 1956"]
    assert "Pavel Yudin" in md["creator"]
    assert md["language"] == ["ru"]
    assert f"{site.built.base}id/document/116814" in md["identifier"]
    assert "Text" in md["type"]
    titles = {e.key: e.title for e in site.catalog().all()}
    for r in site.sickle().ListRecords(metadataPrefix="oai_dc"):
        key = r.header.identifier.rsplit(":", 1)[1]
        assert r.metadata["title"] == [titles[key]]
        assert r.metadata["identifier"][-1] == f"{site.built.base}id/document/{key}"


def test_edm_meets_europeanas_mandatory_rules_for_every_record(site: Site) -> None:
    # the original's language, or (a record not stating it) the language of its English translation
    from lod.mapping.vocab import language_code

    languages = {}
    for path in (site.built.data / "records").glob("*.yaml"):
        rec = yaml.safe_load(path.read_text(encoding="utf-8"))
        if rec.get("original_language"):
            languages[str(rec["key"])] = sorted(language_code(n) for n in rec["original_language"])
    n = 0
    for r in site.sickle().ListRecords(metadataPrefix="edm"):
        rdf = etree.fromstring(r.raw.encode()).find(".//rdf:RDF", NS)
        assert edm_problems(rdf) == [], (r.header.identifier, edm_problems(rdf))
        cho = rdf.find("edm:ProvidedCHO", NS)
        agg = rdf.find("ore:Aggregation", NS)
        key = r.header.identifier.rsplit(":", 1)[1]
        assert cho.get(f"{{{NS['rdf']}}}about") == f"{site.built.base}id/document/{key}"
        assert agg.find("edm:isShownAt", NS).get(f"{{{NS['rdf']}}}resource") == \
            f"{site.built.base}data/document/{key}.html"
        assert agg.find("edm:rights", NS).get(f"{{{NS['rdf']}}}resource") == \
            "http://rightsstatements.org/vocab/InC-EDU/1.0/"
        assert [e.text for e in cho.iterfind("dc:language", NS)] == languages.get(key, ["en"]), key
        for ref in cho.iterfind("dc:creator", NS):       # contextual resources are described
            iri = ref.get(f"{{{NS['rdf']}}}resource")
            assert iri is None or rdf.find(f"edm:Agent[@rdf:about='{iri}']/skos:prefLabel", NS) is not None
        rdflib.Graph().parse(data=etree.tostring(rdf), format="xml")    # well-formed RDF/XML
        n += 1
    assert n == len(site.built.report.published)


def test_edm_landing_page_dereferences(site: Site) -> None:
    import urllib.request

    url = f"{site.built.base}data/document/116814.html"
    with urllib.request.urlopen(url, timeout=10) as resp:     # loopback: the live test server
        assert resp.status == 200 and resp.headers["Content-Type"].startswith("text/html")


def test_rdf_format_is_the_record_graph(site: Site) -> None:
    store = EmbeddedStore(site.built.store)
    for r in site.sickle().ListRecords(metadataPrefix="rdf"):
        key = r.header.identifier.rsplit(":", 1)[1]
        rdf = etree.fromstring(r.raw.encode()).find(".//rdf:RDF", NS)
        harvested = rdflib.Graph().parse(data=etree.tostring(rdf), format="xml")
        graph = f"{site.built.base}graph/document/{key}"
        nt = ox.serialize([q.triple for q in store.oxigraph.quads_for_pattern(None, None, None, ox.NamedNode(graph))],
                          format=ox.RdfFormat.N_TRIPLES)
        assert len(harvested) > 50
        assert isomorphic(harvested, rdflib.Graph().parse(data=nt, format="nt")), key


def test_prepared_formats_equal_live_rendering(site: Site) -> None:
    """The build's pre-rendered oai_dc/edm are byte-identical to rendering from the store."""
    from lod import config
    from lod.oai.formats import FORMATS
    from lod.oai.prepared import context
    from lod.uris import Minter

    settings = config.load({"base_uri": site.built.base, "store": str(site.built.store)})
    store = EmbeddedStore(site.built.store)
    prepared = Prepared.open(store.build, settings)
    assert prepared is not None, "lod build writes oai.sqlite"
    minter = Minter(site.built.base)
    entries = [e for e in store.catalog.all() if not e.deleted]
    for prefix in PREPARED:
        ready = prepared.get([e.key for e in entries], prefix)
        assert set(ready) == {e.key for e in entries}
        for e in entries:
            view = RecordView.read(StoreSource(store.oxigraph, e.graph, minter.ontology_graph), minter.document(e.key))
            live = FORMATS[prefix].render(view, context(settings))
            assert live == ready[e.key], (prefix, e.key)


def test_sets_partition_by_language(site: Site) -> None:
    s = site.sickle()
    by_lang = {}
    for st in s.ListSets():
        if st.setSpec.startswith("language:"):
            by_lang[st.setSpec] = {h[0] for h in headers(s, metadataPrefix="oai_dc", set=st.setSpec)}
    assert "language:ru" in by_lang and site.ident("116814") in by_lang["language:ru"]
    every = {h[0] for h in headers(s, metadataPrefix="oai_dc", set="language")}
    assert every == set().union(*by_lang.values())


def test_identify_over_http(site: Site) -> None:
    ident = site.sickle().Identify()
    assert ident.deletedRecord == "persistent"
    assert ident.granularity == "YYYY-MM-DDThh:mm:ssZ"
    assert ident.baseURL == site.url
    assert ident.earliestDatestamp == site.catalog().earliest()


def test_dcat_lists_the_oai_service(site: Site) -> None:
    import urllib.request

    req = urllib.request.Request(site.server.url + "catalog", headers={"Accept": "text/turtle"})
    with urllib.request.urlopen(req, timeout=10) as resp:
        g = rdflib.Graph().parse(data=resp.read(), format="turtle")
    dcat = rdflib.Namespace("http://www.w3.org/ns/dcat#")
    svc = rdflib.URIRef(site.url)
    assert (svc, rdflib.RDF.type, dcat.DataService) in g
    assert (svc, dcat.endpointURL, svc) in g


# ----------------------------------------------------------------------------------- changes and rebuilds
def edit(path: Path, **changes: object) -> None:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data.update(changes)
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")


def test_incremental_harvest_gets_exactly_the_changed_record(changing: Site) -> None:
    time.sleep(1.1)                        # datestamps have seconds granularity: harvest after the build's second
    last_harvest = response_date(changing, verb="Identify")
    full = headers(changing.sickle(), metadataPrefix="oai_dc")
    assert len(full) == len(changing.built.report.published)
    assert headers(changing.sickle(), metadataPrefix="oai_dc", **{"from": last_harvest}) == []
    stamps = {i: d for i, d, _ in full}

    edit(changing.record_file("300237"), title="Corrected title of record 300237")
    changing.rebuild()
    got = headers(changing.sickle(), "ListRecords", metadataPrefix="oai_dc", **{"from": last_harvest})
    assert [g[0] for g in got] == [changing.ident("300237")]
    assert got[0][1] > stamps[changing.ident("300237")]
    rec = changing.sickle().GetRecord(identifier=changing.ident("300237"), metadataPrefix="oai_dc")
    assert rec.metadata["title"] == ["Corrected title of record 300237"]
    # every other record kept its datestamp
    after = {i: d for i, d, _ in headers(changing.sickle(), metadataPrefix="oai_dc")}
    assert {i: d for i, d in after.items() if i != changing.ident("300237")} == \
        {i: d for i, d in stamps.items() if i != changing.ident("300237")}


def test_withdrawn_and_removed_records_are_harvested_as_deleted(changing: Site) -> None:
    time.sleep(1.1)
    last_harvest = response_date(changing, verb="Identify")
    edit(changing.record_file("300238"), withdrawn=True)
    changing.record_file("300239").unlink()
    changing.rebuild()
    for verb in ("ListIdentifiers", "ListRecords"):
        got = headers(changing.sickle(), verb, metadataPrefix="edm", **{"from": last_harvest})
        assert sorted(got) == sorted([(changing.ident("300238"), got[0][1], True),
                                      (changing.ident("300239"), got[0][1], True)]), verb
    rec = changing.sickle().GetRecord(identifier=changing.ident("300239"), metadataPrefix="oai_dc")
    assert rec.deleted and not hasattr(rec, "metadata")     # sickle: a deleted record has no metadata
    # a full harvest still lists them (persistent), each once
    full = headers(changing.sickle(), metadataPrefix="oai_dc")
    assert [d for i, _, d in full if i in (changing.ident("300238"), changing.ident("300239"))] == [True, True]
    assert len(full) == len(set(i for i, _, _ in full))


def test_harvest_started_before_a_rebuild_completes_consistently(changing: Site) -> None:
    s = changing.sickle()
    first = s.harvest(verb="ListIdentifiers", metadataPrefix="oai_dc")
    root = valid(first.http_response.content)
    sent = [(h.findtext("o:identifier", namespaces=NS), h.findtext("o:datestamp", namespaces=NS))
            for h in root.iterfind(".//o:header", NS)]
    token = root.find(".//o:resumptionToken", NS).text
    changed_key = sent[0][0].rsplit(":", 1)[1]          # already harvested: changes during the harvest
    time.sleep(1.1)
    edit(changing.record_file(changed_key), title="Changed while being harvested")
    changing.rebuild()
    while token:
        root = valid(s.harvest(verb="ListIdentifiers", resumptionToken=token).http_response.content)
        assert root.find("o:error", NS) is None, root.findtext("o:error", namespaces=NS)
        sent += [(h.findtext("o:identifier", namespaces=NS), h.findtext("o:datestamp", namespaces=NS))
                 for h in root.iterfind(".//o:header", NS)]
        tok = root.find(".//o:resumptionToken", NS)
        token = tok.text if tok is not None else None
    idents = [i for i, _ in sent]
    assert len(set(sent)) == len(sent), "no version twice"
    assert idents.count(changing.ident(changed_key)) == 2            # the old version, then the new one
    assert sorted(set(idents)) == sorted(changing.ident(k) for k in changing.built.report.published)
    assert all(idents.count(i) == 1 for i in set(idents) if i != changing.ident(changed_key))
    assert sent[-1][1] > sent[0][1]


def test_store_wiped_mid_harvest_gets_bad_token(changing: Site) -> None:
    """A store deleted and built anew has no trace of the harvest's build: the harvest must restart."""
    s = changing.sickle()
    root = valid(s.harvest(verb="ListIdentifiers", metadataPrefix="oai_dc").http_response.content)
    token = root.find(".//o:resumptionToken", NS).text
    store = changing.built.store
    time.sleep(1.1)
    shutil.rmtree(store)                       # everything gone, built again: new datestamps, no history
    build_into(changing.tmp, base=changing.built.base, data=changing.built.data)
    root = valid(s.harvest(verb="ListIdentifiers", resumptionToken=token).http_response.content)
    assert root.find("o:error", NS).get("code") == "badResumptionToken"
    assert "no longer kept" in root.findtext("o:error", namespaces=NS)


def test_records_bundled_are_the_ones_in_data() -> None:
    """Guard: the harvest tests above rely on the bundled record files they edit."""
    for key in ("116814", "300237", "300238", "300239"):
        assert (DATA / "records" / f"{key}.yaml").is_file(), key
