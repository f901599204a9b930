"""Dataset statistics kept by the build (lod.statistics) against the same counts by SPARQL over the
published store, and the catalog's date listing against the SPARQL listing it replaces."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pyoxigraph as ox
import pytest

from lod import dataset
from lod.statistics import RecordTally, Stats, Tally, record_tally, scan
from lod.store import EmbeddedStore
from tests.conftest import Built, build_into

BASE = "http://localhost:8080/"
T = "<http://www.w3.org/1999/02/22-rdf-syntax-ns#type>"
SAME = "<http://www.w3.org/2002/07/owl#sameAs>"


def _older(built: Built, tmp: Path, *statements: tuple[str, tuple[str, ...]]) -> EmbeddedStore:
    """A copy of the build whose catalog is changed by ``statements`` (what an older build lacked)."""
    import shutil

    copy = tmp / "store"
    shutil.copytree(built.store, copy)
    db = sqlite3.connect(EmbeddedStore(copy).build / "catalog.sqlite")
    with db:
        for sql, args in statements:
            db.execute(sql, args)
    db.close()
    return EmbeddedStore(copy)


def _kept(built: Built) -> Stats:
    return Stats.from_json(EmbeddedStore(built.store).catalog.meta()["stats"])


def test_the_bundled_build_keeps_the_counts_a_scan_of_its_store_gives(built: Built) -> None:
    kept, scanned = _kept(built), scan(EmbeddedStore(built.store), built.base)
    assert kept == scanned
    assert kept.documents == len(built.report.published) > 0
    assert kept.people > 0 and kept.linksets.get("person", 0) > 0
    assert kept.triples == built.report.stats.triples


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Built:
    """600 records shaped like the real ones (bench.generate): shared people, places, subjects."""
    from bench.generate import write_data

    tmp = tmp_path_factory.mktemp("generated")
    return build_into(tmp, data=write_data(600, tmp / "data", seed=3, progress=False))


def test_generated_records_keep_the_counts_a_scan_of_their_store_gives(generated: Built) -> None:
    kept, scanned = _kept(generated), scan(EmbeddedStore(generated.store), generated.base)
    assert kept == scanned
    assert kept.documents == 600
    assert kept.entities > kept.documents + kept.people     # creations, identifiers, titles... each counted


def test_statistics_reads_the_kept_counts_without_querying_the_store(built: Built) -> None:
    store = EmbeddedStore(built.store)

    def refuse(*_a: object, **_k: object) -> None:
        raise AssertionError("the store was queried")

    store.query = refuse  # type: ignore[method-assign]
    assert dataset.statistics(store, built.base) == _kept(built)


@pytest.mark.parametrize("value", [None, "{not json", '{"triples": 1}', "[]"])
def test_a_build_without_readable_counts_is_counted_by_scanning(built: Built, tmp_path: Path,
                                                                value: str | None) -> None:
    """Builds made before the build kept counts (or a damaged value) still answer, the slow way."""
    store = _older(built, tmp_path, ("DELETE FROM meta WHERE name = 'stats'", ()) if value is None else
                   ("UPDATE meta SET value = ? WHERE name = 'stats'", (value,)))
    assert dataset.statistics(store, built.base) == scan(store, built.base) == _kept(built)


def test_kept_counts_are_not_used_for_another_base_uri(built: Built) -> None:
    other = "https://archive.example.org/"
    assert dataset.statistics(EmbeddedStore(built.store), other) == scan(EmbeddedStore(built.store), other)


def test_record_tally_reads_types_links_and_blank_nodes() -> None:
    doc, person = f"<{BASE}id/document/7>", f"<{BASE}id/person/ada>"
    lines = [f"{doc} {T} <http://www.cidoc-crm.org/cidoc-crm/E31_Document> .\n",
             f"{doc} <http://purl.org/dc/terms/title> \"A > B <c>\" .\n",
             f"_:b1 {T} <http://www.cidoc-crm.org/cidoc-crm/E52_Time-Span> .\n",
             f"{person} {T} <http://www.cidoc-crm.org/cidoc-crm/E21_Person> .\n",
             f"{person} {SAME} <http://www.wikidata.org/entity/Q7259> .\n",
             f"<{BASE}vocab/subject/x> {T} <http://www.w3.org/2004/02/skos/core#Concept> .\n"]
    t = record_tally("".join(lines), BASE)
    assert t.quads == 6
    assert t.entities == 1                       # the document; the person is shared, the blank node no IRI
    assert t.kinds == {"document": 1}
    assert t.classes == {"http://www.cidoc-crm.org/cidoc-crm/E31_Document": 1,
                         "http://www.cidoc-crm.org/cidoc-crm/E52_Time-Span": 1}
    assert sorted(t.shared_types) == [(f"{BASE}id/person/ada", "http://www.cidoc-crm.org/cidoc-crm/E21_Person"),
                                      (f"{BASE}vocab/subject/x", "http://www.w3.org/2004/02/skos/core#Concept")]
    assert t.shared_ids == [f"{BASE}id/person/ada"] and t.shared_links == [f"{BASE}id/person/ada"]


def test_a_person_in_many_records_is_counted_once() -> None:
    tally = Tally(BASE)
    for key in ("1", "2", "3"):
        tally.add_record(record_tally("".join([
            f"<{BASE}id/document/{key}> {T} <http://www.cidoc-crm.org/cidoc-crm/E31_Document> .\n",
            f"<{BASE}id/person/ada> {T} <http://www.cidoc-crm.org/cidoc-crm/E21_Person> .\n",
            f"<{BASE}id/person/ada> {SAME} <http://www.wikidata.org/entity/Q7259> .\n"]), BASE))
    tally.add_record(RecordTally())
    s = tally.stats()
    assert (s.documents, s.people, s.entities, s.triples) == (3, 1, 4, 9)
    assert s.linksets == {"person": 1}
    assert s.classes == {"http://www.cidoc-crm.org/cidoc-crm/E31_Document": 3,
                         "http://www.cidoc-crm.org/cidoc-crm/E21_Person": 1}


# ----------------------------------------------------------------------------------- listing
def _sparql_listing(store: EmbeddedStore, base: str, page: int, size: int, **filters: str) -> dataset.SearchResult:
    store.catalog.dated = False
    try:
        return dataset.search(store, base, page=page, page_size=size, **filters)
    finally:
        store.catalog.dated = True


@pytest.mark.parametrize("page", [1, 2, 7, 40])
def test_the_catalog_lists_documents_as_the_query_did(generated: Built, page: int) -> None:
    store = EmbeddedStore(generated.store)
    assert store.catalog.dated
    listed = dataset.search(store, generated.base, page=page, page_size=20)
    assert listed == _sparql_listing(store, generated.base, page, 20)
    assert listed.total == 600 and listed.pages == 30
    assert len(listed.hits) == (20 if page <= 30 else 0)


@pytest.mark.parametrize("filters", [
    {"title": "telegram"}, {"title": "  KOSYGIN "}, {"title": "no such words"}, {"date_from": "1960"},
    {"date_to": "1958-06"}, {"date_from": "1955-02-01", "date_to": "1961"},
    {"title": "memorandum", "date_from": "1962"}, {"title": "conversation", "date_to": "1957-12-31"}])
@pytest.mark.parametrize("page", [1, 3])
def test_searches_by_title_and_date_answer_as_the_query_did(generated: Built, filters: dict[str, str],
                                                           page: int) -> None:
    store = EmbeddedStore(generated.store)
    found = dataset.search(store, generated.base, page=page, page_size=10, **filters)
    assert found == _sparql_listing(store, generated.base, page, 10, **filters)
    if filters.get("title") == "telegram":
        assert found.total > 20 and all("telegram" in h.title.lower() for h in found.hits)


def test_title_words_match_in_any_case_beyond_ascii(tmp_path: Path) -> None:
    """SPARQL's LCASE lowers all of Unicode, SQLite's lower() only ASCII: the catalog must do as SPARQL."""
    from lod.store import Catalog, CatalogEntry

    cat = Catalog(tmp_path / "catalog.sqlite")
    cat.put([CatalogEntry("a", "g:a", "x", "2026-01-01T00:00:00Z", title="Télégramme de l'ÉLYSÉE", date="1962"),
             CatalogEntry("b", "g:b", "x", "2026-01-01T00:00:00Z", title="ΣΟΦΙΑ report", date="1961"),
             CatalogEntry("c", "g:c", "x", "2026-01-01T00:00:00Z", title="Other", date="", deleted=True)])
    assert cat.listing(offset=0, limit=5, words="élysée") == (1, [("a", "Télégramme de l'ÉLYSÉE", "1962")])
    assert cat.listing(offset=0, limit=5, words="σοφια")[0] == 1
    assert cat.listing(offset=0, limit=5) == (2, [("b", "ΣΟΦΙΑ report", "1961"),
                                                  ("a", "Télégramme de l'ÉLYSÉE", "1962")])
    assert cat.listing(offset=0, limit=5, date_to="1961")[0] == 1
    assert cat.listing(offset=1, limit=5, words="e") == (2, [("a", "Télégramme de l'ÉLYSÉE", "1962")])


def test_a_search_by_person_asks_the_store(generated: Built) -> None:
    store = EmbeddedStore(generated.store)
    person = next(iter(store.query("SELECT ?p WHERE { ?d <http://www.cidoc-crm.org/cidoc-crm/P67_refers_to> ?p . "
                                   "?p a <http://www.cidoc-crm.org/cidoc-crm/E21_Person> } LIMIT 1")))["p"].value
    calls = []
    listing = store.catalog.listing
    store.catalog.listing = lambda **kw: calls.append(kw) or listing(**kw)  # type: ignore[method-assign]
    found = dataset.search(store, generated.base, person=person, page_size=1000)
    assert found.total > 0 and not calls


def test_a_catalog_without_dates_lists_by_query(built: Built, tmp_path: Path) -> None:
    """A build made before the catalog kept document dates: the listing comes from the store."""
    store = _older(built, tmp_path, ("DROP INDEX records_by_date", ()), ("ALTER TABLE records DROP COLUMN date", ()))
    assert not store.catalog.dated and store.catalog.listing(offset=0, limit=5) is None
    assert dataset.search(store, built.base, page_size=5) == dataset.search(EmbeddedStore(built.store), built.base,
                                                                             page_size=5)
    assert store.catalog.get(built.report.published[0]).date == ""


# ----------------------------------------------------------------------------------- people index
def _queried_people(store: EmbeddedStore, base: str) -> list[tuple[str, str, int]]:
    kept = store.catalog.people
    store.catalog.people = lambda: None  # type: ignore[method-assign]
    try:
        return dataset.people(store, base)
    finally:
        store.catalog.people = kept  # type: ignore[method-assign]


@pytest.mark.parametrize("which", ["built", "generated"])
def test_the_people_index_kept_by_the_build_is_what_the_query_answers(which: str,
                                                                       request: pytest.FixtureRequest) -> None:
    b: Built = request.getfixturevalue(which)
    store = EmbeddedStore(b.store)
    kept = dataset.people(store, b.base)
    assert kept == store.catalog.people()
    assert kept == _queried_people(store, b.base)
    assert sum(n for _, _, n in kept) > len(kept) > 0


def test_mentions_count_documents_not_statements() -> None:
    from lod.statistics import mentions

    N, crm = ox.NamedNode, "http://www.cidoc-crm.org/cidoc-crm/"
    doc, conv, ada = N(f"{BASE}id/document/1"), N(f"{BASE}id/event/1-conversation"), N(f"{BASE}id/person/ada")
    quads = [ox.Quad(doc, N(crm + "P67_refers_to"), ada), ox.Quad(doc, N(crm + "P70_documents"), conv),
             ox.Quad(conv, N(crm + "P11_had_participant"), ada),
             ox.Quad(conv, N(crm + "P11_had_participant"), N(f"{BASE}id/person/bo")),
             ox.Quad(doc, N(crm + "P67_refers_to"), ox.Literal("not an IRI"))]
    assert mentions(quads) == {f"{BASE}id/person/ada": 1, f"{BASE}id/person/bo": 1}


def test_a_catalog_without_the_people_index_answers_by_query(built: Built, tmp_path: Path) -> None:
    store = _older(built, tmp_path, ("DROP TABLE people", ()))
    assert store.catalog.people() is None
    assert dataset.people(store, built.base) == dataset.people(EmbeddedStore(built.store), built.base)


@pytest.mark.parametrize("which", ["built", "generated"])
def test_people_pages_hold_the_index_once_in_order(which: str, request: pytest.FixtureRequest) -> None:
    b: Built = request.getfixturevalue(which)
    store = EmbeddedStore(b.store)
    whole = dataset.people(store, b.base)
    first = dataset.people_page(store, b.base, page_size=7)
    assert (first.total, first.pages) == (len(whole), -(-len(whole) // 7))
    pages = [dataset.people_page(store, b.base, page=n, page_size=7) for n in range(1, first.pages + 1)]
    assert [r for p in pages for r in p.rows] == whole
    assert dataset.people_page(store, b.base, page=first.pages + 1, page_size=7).rows == []


@pytest.mark.parametrize("name", ["", "a", "LIU", "zhou en", "  Kohl ", "é", "no such name"])
def test_people_by_name_from_the_catalog_equal_the_query_page_for_page(generated: Built, built: Built,
                                                                       name: str) -> None:
    """The catalog's pages (SQL over the kept index) against the query's answer filtered in Python."""
    for b in (built, generated):
        store = EmbeddedStore(b.store)
        expected = [r for r in _queried_people(store, b.base) if name.strip().lower() in r[1].lower()]
        got, page = [], 1
        while True:
            p = dataset.people_page(store, b.base, name=name, page=page, page_size=5)
            assert p.total == len(expected)
            if not p.rows:
                break
            got += p.rows
            page += 1
        assert got == expected


def test_people_pages_without_the_kept_index_come_from_the_query(built: Built, tmp_path: Path) -> None:
    store = _older(built, tmp_path, ("DROP TABLE people", ()))
    assert store.catalog.people_page(offset=0, limit=5) is None
    current = EmbeddedStore(built.store)
    for name, page in (("", 1), ("", 2), ("liu", 1), ("zzz", 1)):
        assert (dataset.people_page(store, built.base, name=name, page=page, page_size=5)
                == dataset.people_page(current, built.base, name=name, page=page, page_size=5))


@pytest.mark.parametrize("kw", [{"page": 0}, {"page": -3}, {"name": "x" * 201}])
def test_people_page_refuses_bad_arguments(built: Built, kw: dict[str, object]) -> None:
    with pytest.raises(dataset.SearchError):
        dataset.people_page(EmbeddedStore(built.store), built.base, **kw)  # type: ignore[arg-type]
