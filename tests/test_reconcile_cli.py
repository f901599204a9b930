"""`lod reconcile` end to end: the bundled authority and records, a fake Wikidata on loopback.

Each test copies data/authority.yaml and data/records/ to a temporary folder, so the bundled
data is never changed. The fake server counts requests: reruns and offline runs must make none.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner, Result
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import PROV, RDFS, XSD
from wikidata_fake import FakeServer, FakeWikidata

from lod.authority import Authority, Entity
from lod.cli import cli

ROOT = Path(__file__).resolve().parent.parent
WD = "http://www.wikidata.org/entity/"


@pytest.fixture
def fake() -> Iterator[FakeWikidata]:
    srv = FakeServer()
    yield srv.fake
    srv.close()


@pytest.fixture
def data(tmp_path: Path) -> Path:
    d = tmp_path / "data"
    d.mkdir()
    shutil.copy(ROOT / "data" / "authority.yaml", d / "authority.yaml")
    shutil.copytree(ROOT / "data" / "records", d / "records")
    return d


def lod(fake: FakeWikidata, data: Path, *args: str, contact: str | None = "ops@example.org",
        env: dict[str, str] | None = None) -> Result:
    argv = ["reconcile", "--data", str(data), "--wikidata-api", fake.api, "--wikidata-sparql", fake.sparql,
            "--cache-dir", str(data.parent / "cache"), "--wikidata-backoff", "0.001",
            "--wikidata-timeout", "1", "--wikidata-retries", "2"]
    if contact is not None:
        argv += ["--contact", contact]
    environment = {"LOD_CONTACT": "", "LOD_OFFLINE": "", "LOD_RECONCILE_SERVICE": "", "USER": "tester",
                   **(env or {})}
    return CliRunner().invoke(cli, [*argv, *args], env=environment, catch_exceptions=False)


def authority(data: Path) -> Authority:
    return Authority.load(data / "authority.yaml")


def review(data: Path) -> dict:
    return yaml.safe_load((data / "reconcile" / "review.yaml").read_text("utf-8"))["entries"]


def write_authority(data: Path, *entities: Entity) -> None:
    Authority({e.id: e for e in entities}).save(data / "authority.yaml")


def test_help_names_every_option():
    out = CliRunner().invoke(cli, ["reconcile", "--help"]).output
    for opt in ("--data", "--contact", "--wikidata-api", "--wikidata-sparql", "--offline", "--accept", "--reject",
                "--verify", "--enrich / --no-enrich", "--service", "--reviewer", "--threshold"):
        assert opt in out


def test_refuses_to_run_online_without_a_contact(fake, data):
    r = lod(fake, data, contact=None)
    assert r.exit_code == 2 and "--contact" in r.stderr and "--offline" in r.stderr
    assert lod(fake, data, contact="bob").exit_code == 2
    assert fake.count == 0 and not (data / "reconcile").exists()


def test_reconcile_writes_the_review_file_and_auto_accepts_only_clear_winners(fake, data):
    before = authority(data)
    r = lod(fake, data)
    assert r.exit_code == 0, r.output
    after = authority(data)
    rv = review(data)
    # medium/low-confidence evidenced QIDs confirmed by the reconciler: auto-accepted, marked as such
    for eid, qid in (("liu-shaoqi", "Q16988"), ("zhou-enlai", "Q17411")):
        assert before.entities[eid].published_qid() is None
        e = after.entities[eid]
        assert e.published_qid() == qid and e.review["status"] == "auto-accepted"
        assert e.review["by"].startswith("lod reconcile") and "auto-accepted by the reconciler" in e.evidence
        assert rv[eid]["status"] == "auto-accepted" and rv[eid]["accepted"] == qid
    # a namesake human with no dates: candidates for review, nothing published
    assert rv["shi-zhe"]["status"] == "review" and after.entities["shi-zhe"].published_qid() is None
    assert rv["shi-zhe"]["candidates"][0]["qid"] == "Q990000012"
    assert "life dates not confirmed" in rv["shi-zhe"]["reason"]
    # decoys are kept with the reason they were set aside
    gao = rv["gao-gang"]["candidates"][0]
    assert gao["qid"] == "Q990000011" and gao["score"] == 0.0 and "born 1985, after the document" in gao["excluded"]
    assert after.entities["gao-gang"].wikidata == ""
    # evidence for every score component; label, description and dates of each candidate
    for entry in rv.values():
        for c in entry.get("candidates", []):
            assert set(c["evidence"]) >= {"name", "type", "dates", "prominence"}
            assert {"qid", "score", "label", "description"} <= set(c)
    liu = rv["liu-shaoqi"]["candidates"][0]
    assert (liu["born"], liu["died"]) == ("1898", "1969")
    assert "alive for participant in journal-ambassador" in liu["evidence"]["dates"]
    assert {s["language"] for s in rv["liu-shaoqi"]["searched"]} == {"en", "zh"}
    # nothing else in the authority changed
    changed = {i for i, e in after.entities.items() if e.to_dict() != before.entities[i].to_dict()}
    assert changed == {"liu-shaoqi", "zhou-enlai"}
    # invariant: nothing below the documented rule is published without a reviewer
    for eid, e in after.entities.items():
        if e.published_qid() and e.confidence != "high":
            assert e.review["status"] == "auto-accepted"
            live = [c for c in rv[eid]["candidates"] if "excluded" not in c]
            assert live[0]["qid"] == e.wikidata and live[0]["score"] >= 0.9
            assert live[0]["score"] - (live[1]["score"] if len(live) > 1 else 0) >= 0.2
    # batches of at most 50 ids
    assert all(len(s.params["ids"].split("|")) <= 50 for s in fake.requests if "ids" in s.params)
    assert "2 auto-accepted" in r.stdout


def test_enrichment_graph_with_labels_dates_links_and_provenance(fake, data):
    assert lod(fake, data).exit_code == 0
    g = Graph().parse(data / "wikidata" / "enrichment.ttl", format="turtle")
    liu = URIRef(WD + "Q16988")
    assert set(g.objects(liu, RDFS.label)) == {Literal("Liu Shaoqi", lang="en"), Literal("刘少奇", lang="zh"),
                                               Literal("Лю Шаоци", lang="ru")}
    assert g.value(liu, URIRef("http://www.wikidata.org/prop/direct/P569")) == Literal("1898", datatype=XSD.gYear)
    assert URIRef("https://en.wikipedia.org/wiki/Liu_Shaoqi") in set(
        g.objects(liu, URIRef("http://xmlns.com/foaf/0.1/isPrimaryTopicOf")))
    answer = g.value(liu, PROV.wasDerivedFrom)
    assert str(answer).startswith(fake.api) and g.value(answer, PROV.generatedAtTime) is not None
    assert g.value(answer, URIRef("http://purl.org/dc/terms/source")) == URIRef(fake.api)
    mao = URIRef(WD + "Q5816")
    assert str(g.value(mao, URIRef("http://xmlns.com/foaf/0.1/depiction"))).endswith("Mao_Zedong_portrait.jpg")
    published = {e.published_qid() for e in authority(data).entities.values()} - {None}
    assert {str(s)[len(WD):] for s in g.subjects(RDFS.label, None) if str(s).startswith(WD)} == published
    # --no-enrich leaves it alone
    mtime = (data / "wikidata" / "enrichment.ttl").stat().st_mtime_ns
    assert lod(fake, data, "--no-enrich").exit_code == 0
    assert (data / "wikidata" / "enrichment.ttl").stat().st_mtime_ns == mtime


def test_a_rerun_hits_the_cache_and_offline_works_from_it(fake, data):
    assert lod(fake, data).exit_code == 0
    n = fake.count
    assert n > 0
    r = lod(fake, data)
    assert r.exit_code == 0 and fake.count == n and "0 requests" in r.stdout
    r = lod(fake, data, "--offline", contact=None)
    assert r.exit_code == 0 and fake.count == n
    r = lod(fake, data, "--offline", "--json", contact=None)
    report = json.loads(r.stdout)
    assert report["exit_code"] == 0 and report["requests"] == 0 and report["missing"] == []
    shi = next(o for o in report["outcomes"] if o["id"] == "shi-zhe")
    assert shi["status"] == "review" and shi["candidates"][0]["qid"] == "Q990000012"


def test_offline_with_an_empty_cache_reports_what_is_missing(fake, data):
    before = (data / "authority.yaml").read_text("utf-8")
    r = lod(fake, data, "--offline", contact=None)
    assert r.exit_code == 1
    assert "MISSING (offline, not in cache): liu-shaoqi: search 'Liu Shaoqi' [en]" in r.stderr
    assert fake.count == 0
    assert review(data)["liu-shaoqi"]["status"] == "incomplete"
    assert (data / "authority.yaml").read_text("utf-8") == before          # nothing accepted offline
    assert not (data / "wikidata" / "enrichment.ttl").exists()             # enrichment is off offline


def test_failed_searches_are_reported_block_auto_accept_and_are_not_cached(fake, data):
    fake.plan("500", times=3, match="search=Liu+Shaoqi")
    r = lod(fake, data)
    assert r.exit_code == 1
    assert "FAILED: liu-shaoqi: search 'Liu Shaoqi' [en]: HTTP 500; gave up after 3 attempts" in r.stderr
    rv = review(data)["liu-shaoqi"]
    assert rv["status"] == "incomplete" and "search incomplete" in rv["reason"]
    assert authority(data).entities["liu-shaoqi"].published_qid() is None    # found in zh, still not accepted
    r = lod(fake, data)                                                      # the error was not cached
    assert r.exit_code == 0 and review(data)["liu-shaoqi"]["status"] == "auto-accepted"


def test_maxlag_and_429_during_a_run_are_waited_out(fake, data):
    fake.retry_after = "0"
    fake.plan("maxlag", times=2)
    fake.plan("429", times=1, match="action=wbgetentities")
    r = lod(fake, data)
    assert r.exit_code == 0 and "maxlag" in r.stderr and "HTTP 429" in r.stderr
    assert authority(data).entities["liu-shaoqi"].published_qid() == "Q16988"


def test_accept_and_reject_record_who_and_when_and_reach_the_authority(fake, data):
    assert lod(fake, data, "--no-enrich").exit_code == 0
    n = fake.count
    r = lod(fake, data, "--accept", "shi-zhe=Q990000012", "--reviewer", "alice", "--note", "checked", contact=None)
    assert r.exit_code == 0, r.output
    e = authority(data).entities["shi-zhe"]
    assert e.published_qid() == "Q990000012"
    assert e.review["status"] == "accepted" and e.review["by"] == "alice" and e.review["at"]
    d = review(data)["shi-zhe"]["decisions"][-1]
    assert (d["action"], d["qid"], d["by"], d["note"]) == ("accept", "Q990000012", "alice", "checked")
    assert fake.count == n                   # decisions need no network and no contact
    r = lod(fake, data, "--reject", "liu-shaoqi=Q16988", contact=None, env={"USER": "bob"})
    assert r.exit_code == 0
    liu = authority(data).entities["liu-shaoqi"]
    assert liu.wikidata == "" and liu.published_qid() is None and liu.review["by"] == "bob"
    assert "Q16988 rejected by bob" in liu.evidence and "wikidata-evidence.csv" in liu.evidence
    assert lod(fake, data, "--no-enrich").exit_code == 0       # a rejected QID is never auto-accepted again
    rv = review(data)["liu-shaoqi"]
    assert authority(data).entities["liu-shaoqi"].published_qid() is None
    assert rv["candidates"][0]["qid"] == "Q16988" and rv["candidates"][0]["rejected"] is True
    assert rv["decisions"][-1]["action"] == "reject"
    assert authority(data).entities["shi-zhe"].published_qid() == "Q990000012"   # decisions survive reruns


@pytest.mark.parametrize("args, message", [
    (["--accept", "liu-shaoqi"], "expected ENTRY_ID=Q123"),
    (["--accept", "liu-shaoqi=X12"], "not a Wikidata item id"),
    (["--accept", "nobody=Q1"], "no authority entry with id 'nobody'"),
    (["--accept", "liu-shaoqi=Q1", "--reject", "liu-shaoqi=Q1"], "both accepted and rejected"),
    (["--accept", "liu-shaoqi=Q1", "--accept", "liu-shaoqi=Q2"], "two different QIDs"),
    (["--threshold", "0.5"], "--threshold must be between 0.8 and 1.0"),
])
def test_bad_decisions_and_options_are_usage_errors(fake, data, args, message):
    before = (data / "authority.yaml").read_text("utf-8")
    r = lod(fake, data, *args)
    assert r.exit_code == 2 and message in r.output
    assert (data / "authority.yaml").read_text("utf-8") == before and fake.count == 0


def test_verify_follows_redirects_and_flags_deleted_or_mismatched_items(fake, data):
    write_authority(
        data,
        Entity("liu-shaoqi", "Liu Shaoqi", "person", ["刘少奇"], "Q990000900", "high", "seed evidence"),
        Entity("zhou-enlai", "Zhou Enlai", "person", [], "Q990000999", "high", "seed evidence"),
        Entity("mao-zedong", "Mao Zedong", "person", [], "Q990000019", "high", "seed evidence"),
        Entity("lavrentiy-beria", "Lavrentiy Beria", "person", [], "Q990000020", "", "x",
               {"status": "accepted", "by": "alice", "at": "2024-01-01"}),
        Entity("deng-xiaoping", "Deng Xiaoping", "person", [], "Q16977", "high", "seed evidence"),
        Entity("beijing", "Beijing", "place", [], "Q956", "high", "seed evidence"))
    r = lod(fake, data, "--verify", "--no-enrich")
    assert r.exit_code == 1, r.output                                  # something was flagged
    a = authority(data).entities
    assert a["liu-shaoqi"].wikidata == "Q16988" and a["liu-shaoqi"].published_qid() == "Q16988"
    assert "seed evidence" in a["liu-shaoqi"].evidence and "merged into Q16988" in a["liu-shaoqi"].evidence
    for eid, why in (("zhou-enlai", "deleted"), ("mao-zedong", "type no longer fits"),
                     ("lavrentiy-beria", "label no longer fits")):
        assert a[eid].review["status"] == "flagged" and why in a[eid].review["note"]
        assert a[eid].published_qid() is None and a[eid].wikidata      # kept for the reviewer to see
    assert a["deng-xiaoping"].review is None and a["beijing"].published_qid() == "Q956"
    rv = review(data)
    assert rv["liu-shaoqi"]["verify"]["status"] == "redirected" and rv["liu-shaoqi"]["verify"]["now"] == "Q16988"
    assert rv["zhou-enlai"]["verify"]["status"] == "flagged"
    # verify asks again even when answers are cached
    n = fake.count
    lod(fake, data, "--verify", "--no-enrich")
    assert fake.count > n


def test_verify_with_a_failing_server_changes_nothing(fake, data):
    before = (data / "authority.yaml").read_text("utf-8")
    fake.plan("500", times=10, match="action=wbgetentities")
    r = lod(fake, data, "--verify", "--no-enrich")
    assert r.exit_code == 1 and "failed" in r.stdout and "HTTP 500" in r.stdout
    assert (data / "authority.yaml").read_text("utf-8") == before


def test_reconciliation_service_back_end(fake, data):
    r = lod(fake, data, "--service", fake.service, "--no-enrich")
    assert r.exit_code == 0, r.output
    assert not any(s.params.get("action") == "wbsearchentities" for s in fake.requests)
    assert any(s.path == "/reconcile" and s.method == "POST" for s in fake.requests)
    rv = review(data)["liu-shaoqi"]
    assert rv["status"] == "auto-accepted" and "service 'Liu Shaoqi' #1" in rv["candidates"][0]["found_by"][0]
    assert rv["searched"][0]["service"] == fake.service


def test_a_service_outside_wikidatas_identifier_space_is_refused(fake, data):
    r = lod(fake, data, "--service", fake.url + "reconcile-elsewhere")
    assert r.exit_code == 2 and "is not Wikidata's" in r.stderr


def test_bad_input_names_none_crash_each_is_reported(fake, data):
    shutil.rmtree(data / "records")
    write_authority(
        data,
        Entity("yudin-initials", "P. F. Yudin", "person", ["P.F. Yudin"]),
        Entity("molotov", "Molotov", "person", ["Cde. Molotov"]),
        Entity("liu-cyrillic", "Лю Шаоци", "person"),
        Entity("liu-han", "刘少奇", "person"),
        Entity("initials", "P. F. Y.", "person"),
        Entity("javanese", "ꦗꦮ", "person"),
        Entity("anshan", "Anshan", "place", ["鞍山", "An-shan"]))
    r = lod(fake, data, "--no-enrich")
    assert r.exit_code == 0, r.output
    assert "no records folder" in r.stderr
    rv = review(data)
    assert "only initials or a surname (P. F. Yudin" in rv["yudin-initials"]["notes"][0]
    assert "the name also names a place: Q990000010 'Molotov'" in " ".join(rv["molotov"]["notes"])
    assert "the name also names a person: Q990000017" in " ".join(rv["anshan"]["notes"])
    assert rv["liu-cyrillic"]["searched"] == [{"query": "Лю Шаоци", "language": "ru", "hits": 1}]
    assert rv["liu-cyrillic"]["candidates"][0]["qid"] == "Q16988"
    assert rv["liu-han"]["searched"][0]["language"] == "zh"
    assert "only initials, nothing to search" in rv["initials"]["notes"][0]
    assert "script not searched" in rv["javanese"]["notes"][0]
    # no dated documents: nothing about a person can be auto-accepted, everything is for review
    assert all(e.published_qid() is None for e in authority(data).entities.values())
    assert rv["liu-han"]["status"] == "review"


def test_empty_missing_and_broken_files(fake, data):
    (data / "authority.yaml").write_text("entities: []\n", encoding="utf-8")
    r = lod(fake, data)
    assert r.exit_code == 0 and "the authority has no entries" in r.stderr and fake.count == 0
    (data / "authority.yaml").unlink()
    r = lod(fake, data)
    assert r.exit_code == 2 and "no authority file" in r.stderr
    shutil.copy(ROOT / "data" / "authority.yaml", data / "authority.yaml")
    (data / "reconcile").mkdir(exist_ok=True)
    (data / "reconcile" / "review.yaml").write_text("entries: [1, 2\n", encoding="utf-8")
    r = lod(fake, data)
    assert r.exit_code == 2 and "review.yaml: cannot read the review file" in r.stderr
    (data / "reconcile" / "review.yaml").write_text("- just a list\n", encoding="utf-8")
    assert lod(fake, data).exit_code == 2
    (data / "authority.yaml").write_text("entities: [{id: x}]\n", encoding="utf-8")
    r = lod(fake, data)
    assert r.exit_code == 2 and "authority.yaml" in r.stderr


def test_enrichment_that_cannot_be_fetched_keeps_the_previous_description(fake, data):
    assert lod(fake, data).exit_code == 0
    ttl = data / "wikidata" / "enrichment.ttl"
    before = Graph().parse(ttl, format="turtle")
    shutil.rmtree(data.parent / "cache")                     # cache gone, and offline: nothing can be fetched
    r = lod(fake, data, "--offline", "--verify", "--enrich", contact=None)
    assert r.exit_code == 1 and "MISSING (offline, not in cache): enrichment Q16988" in r.stderr
    after = Graph().parse(ttl, format="turtle")
    liu = URIRef(WD + "Q16988")
    assert set(after.objects(liu, RDFS.label)) == set(before.objects(liu, RDFS.label))
    assert after.value(liu, PROV.wasDerivedFrom) == before.value(liu, PROV.wasDerivedFrom)
    assert "previous enrichment kept" in r.stdout


def test_the_next_build_publishes_accepted_links_and_loads_the_enrichment(fake, data, tmp_path):
    from conftest import build_into

    from lod.store import EmbeddedStore

    assert lod(fake, data).exit_code == 0
    assert lod(fake, data, "--accept", "shi-zhe=Q990000012", "--reviewer", "alice", contact=None).exit_code == 0
    shutil.rmtree(data.parent / "cache")
    built = build_into(tmp_path / "build", data=data)
    assert built.report.exit_code == 0, built.report.errors
    store = EmbeddedStore(built.store)
    base = built.base

    def ask(q: str) -> bool:
        return bool(store.query("PREFIX owl: <http://www.w3.org/2002/07/owl#> "
                                "PREFIX wd: <http://www.wikidata.org/entity/> "
                                "PREFIX wdt: <http://www.wikidata.org/prop/direct/> ASK { " + q + " }"))

    assert ask(f"<{base}id/person/liu-shaoqi> owl:sameAs wd:Q16988")          # auto-accepted
    assert ask(f"<{base}id/person/shi-zhe> owl:sameAs wd:Q990000012")         # accepted in review
    assert not ask(f"<{base}id/person/gao-gang> owl:sameAs ?any")             # never guessed
    assert ask(f"GRAPH <{base}graph/wikidata> {{ wd:Q16988 wdt:P569 ?born }}")
    assert "liu-shaoqi" not in built.report.no_qid and "gao-gang" in built.report.no_qid


def test_a_failing_class_check_leaves_only_the_affected_places_incomplete(fake, data):
    write_authority(data,
                    Entity("fixtureville", "Fixtureville", "place"),      # class known only through SPARQL
                    Entity("beijing", "Beijing", "place", ["北京"]),       # a decoy (ship) of unknown class
                    Entity("anshan", "Anshan", "place"),                  # only built-in classes among candidates
                    Entity("liu-shaoqi", "Liu Shaoqi", "person", ["刘少奇"]))
    fake.plan("500", times=3, match="/sparql")                           # one run: 1 try + 2 retries
    r = lod(fake, data, "--no-enrich")
    assert r.exit_code == 1 and "class check" in r.stderr
    rv = review(data)
    assert rv["fixtureville"]["status"] == "incomplete"
    assert rv["beijing"]["status"] == "incomplete"              # the ship might have been a place
    assert authority(data).entities["beijing"].published_qid() is None
    assert "failures" not in rv["anshan"] and "failures" not in rv["liu-shaoqi"]
    r = lod(fake, data, "--no-enrich")                                    # SPARQL back: the subclass counts
    assert r.exit_code == 0 and review(data)["beijing"]["status"] == "auto-accepted"
    c = review(data)["fixtureville"]["candidates"][0]
    assert c["qid"] == "Q990000018" and "SPARQL wdt:P279*" in c["evidence"]["type"]
