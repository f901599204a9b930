"""The build's names table (lod.naming): documents read the same with and without it, and it spares the store.

The table must give what the describer's own store lookups give, so every bundled document is served
from two copies of one build, the second with its table switched off (as a build made before the
table existed, or by a remote store, is read), and the bodies are compared byte for byte.
"""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pyoxigraph as ox
import pytest

from lod import naming
from lod.web.documents import State
from tests.conftest import BASE, DATA, build_into, close_app, make_app

G_AUTH, G_ONTO, G_WD = f"{BASE}graph/authority", f"{BASE}graph/ontology", f"{BASE}graph/wikidata"
RDFS_LABEL = "http://www.w3.org/2000/01/rdf-schema#label"
# a Wikidata item the bundled authority links (Deng Xiaoping), with life dates and labels in the enrichment
ENRICHMENT = """@prefix wdt: <http://www.wikidata.org/prop/direct/> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
<http://www.wikidata.org/entity/Q16977> wdt:P569 "1904-08-22"^^xsd:date ; wdt:P570 "1997-02-19"^^xsd:date ;
    <http://www.w3.org/2000/01/rdf-schema#label> "Deng Xiaoping"@en, "邓小平"@zh .
"""


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory):  # noqa: ANN201
    tmp = tmp_path_factory.mktemp("naming")
    data = tmp / "data"
    shutil.copytree(DATA, data, ignore=shutil.ignore_patterns("sources"))
    (data / "wikidata").mkdir()
    (data / "wikidata" / "enrichment.ttl").write_text(ENRICHMENT, encoding="utf-8")
    # documents described per request (not kept by the build, lod.described): the table is what is compared
    on = build_into(tmp / "on", data=data, describe_at_build=False)
    assert on.report.exit_code == 0 and on.report.described == 0
    off = tmp / "off"
    shutil.copytree(on.store, off / "store")
    for path in (off / "store").glob("builds/*/oai.sqlite"):
        with sqlite3.connect(path) as db:
            db.execute("DELETE FROM meta WHERE name = 'names'")
    off_built = type(on)(store=off / "store", data=data, base=on.base, report=on.report)
    apps = make_app(on), make_app(off_built)
    yield on, apps
    for a in apps:
        close_app(a)


def _counting(app) -> list[int]:  # noqa: ANN001
    """Count the describer's store lookups (the table is meant to spare them)."""
    describer = State.of(app).describer
    calls = [0]
    lookup = describer.quads

    def quads(*args: object, **kw: object):  # noqa: ANN202
        calls[0] += 1
        return lookup(*args, **kw)

    describer.quads = quads  # type: ignore[method-assign]
    return calls


def test_every_document_reads_the_same_with_and_without_the_table(pair) -> None:  # noqa: ANN001
    built, (with_table, without) = pair
    lookups = _counting(with_table), _counting(without)
    clients = with_table.test_client(), without.test_client()
    keys = sorted(built.report.published)
    assert len(keys) >= 10
    for key in keys:
        for ext in ("ttl", "nt", "jsonld", "rdf", "html"):
            a, b = (c.get(f"/data/document/{key}.{ext}") for c in clients)
            assert a.status_code == b.status_code == 200, (key, ext)
            assert a.data == b.data, (key, ext)
    assert lookups[0][0] < lookups[1][0] / 10, lookups      # the table answered almost all of them


def test_life_dates_and_names_of_a_linked_wikidata_item(pair) -> None:  # noqa: ANN001
    built, (with_table, _) = pair
    for key in sorted(built.report.published):
        ttl = with_table.test_client().get(f"/data/document/{key}.nt").data.decode()
        if "<http://www.wikidata.org/entity/Q16977>" in ttl:
            assert '<http://www.wikidata.org/entity/Q16977> <http://www.wikidata.org/prop/direct/P569> ' \
                   '"1904-08-22"^^<http://www.w3.org/2001/XMLSchema#date> .' in ttl
            break
    else:
        pytest.fail("no bundled document links Q16977")
    rows = _table(built.store)
    assert '"Deng Xiaoping"@en' in rows["http://www.wikidata.org/entity/Q16977"][0].decode()


def _table(store: Path) -> dict[str, tuple]:
    (path,) = store.glob("builds/*/oai.sqlite")
    with sqlite3.connect(path) as db:
        return {r[0]: r[1:] for r in db.execute("SELECT iri, labels, links, variants FROM names")}


def test_rows_follow_the_describer_rules() -> None:
    N, L = ox.NamedNode, ox.Literal
    label, pref = N(RDFS_LABEL), N("http://www.w3.org/2004/02/skos/core#prefLabel")
    alt, same = N("http://www.w3.org/2004/02/skos/core#altLabel"), N("http://www.w3.org/2002/07/owl#sameAs")
    person, term = N(f"{BASE}id/person/liu-shaoqi"), N("http://www.cidoc-crm.org/cidoc-crm/E21_Person")
    item, only_records = N("http://www.wikidata.org/entity/Q1"), N(f"{BASE}id/place/nowhere")
    auth = [ox.Quad(person, pref, L("Liu Shaoqi"), N(G_AUTH)),
            ox.Quad(person, label, L("Liu Shaoqi"), N(G_AUTH)),
            ox.Quad(person, alt, L("Liu Shao-chi"), N(G_AUTH)),
            ox.Quad(person, same, item, N(G_AUTH))]
    onto = [ox.Quad(term, label, L("Person", language="en"), N(G_ONTO)),
            ox.Quad(term, label, L("Personne", language="fr"), N(G_ONTO)),
            ox.Quad(person, label, L("not read: the authority names it first"), N(G_ONTO))]
    wd = [ox.Quad(item, label, L("Liu Shaoqi", language="en"), N(G_WD)),
          ox.Quad(item, N("http://www.wikidata.org/prop/direct/P569"), L("1898"), N(G_WD)),
          ox.Quad(only_records, label, L("misfiled: not the enrichment graph's"), N(G_AUTH))]
    rows = {r[0]: r[1:] for r in naming.rows([(G_AUTH, auth), (G_ONTO, onto), (G_WD, wd)], base=BASE,
                                             authority_graph=G_AUTH, ontology_graph=G_ONTO)}
    labels, links, variants = rows[person.value]
    assert labels == f'{person} {label} "Liu Shaoqi" .\n{person} {pref} "Liu Shaoqi" .\n'.encode()
    assert links == f"{person} {same} {item} .\n".encode()
    assert variants == '["Liu Shaoqi", "Liu Shao-chi"]'              # each name once
    assert rows[term.value][0] == f'{term} {label} "Person"@en .\n'.encode()     # English only
    assert rows[term.value][2] == '["Person", "Personne"]'                        # every name links mentions
    assert b"P569" in rows[item.value][1]
    assert only_records.value not in rows          # a quad outside its graph's list counts for nothing
