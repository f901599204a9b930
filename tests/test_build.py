"""`lod.build.build`: what gets published, catalog datestamps, bad records, atomicity (incl. kill -9)."""

from __future__ import annotations

import gzip
import hashlib
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pyoxigraph as ox
import pytest
import yaml
from hypothesis import given
from hypothesis import settings as examples
from hypothesis import strategies as st

from lod import __version__, config
from lod.build import BuildError, build
from lod.store import Catalog, EmbeddedStore, Layout
from tests.conftest import BASE, DATA, Built, build_into

SEED_B = "116814"
PREFIXES = """PREFIX crm: <http://www.cidoc-crm.org/cidoc-crm/> PREFIX owl: <http://www.w3.org/2002/07/owl#>
PREFIX prov: <http://www.w3.org/ns/prov#> PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#> PREFIX dcterms: <http://purl.org/dc/terms/>
PREFIX wd: <http://www.wikidata.org/entity/> PREFIX owl: <http://www.w3.org/2002/07/owl#>
"""
KEYS = sorted(p.stem for p in (DATA / "records").glob("*.yaml"))


def ask(store: EmbeddedStore, where: str) -> bool:
    return bool(store.query(PREFIXES + "ASK { " + where + " }"))


def settings(tmp: Path, data: Path, base: str = BASE) -> config.Settings:
    return config.load({"store": str(tmp / "store"), "data": str(data), "base_uri": base, "offline": True})


def copy_data(tmp: Path) -> Path:
    dst = tmp / "data"
    shutil.copytree(DATA, dst, ignore=shutil.ignore_patterns("sources"))
    return dst


def graph_lines(build_dir: Path) -> dict[str, list[str]]:
    store = ox.Store.read_only(str(build_dir / "oxigraph"))
    out: dict[str, list[str]] = {}
    for q in store:
        out.setdefault(q.graph_name.value, []).append(str(q.triple))
    return {g: sorted(lines) for g, lines in out.items()}


# ----------------------------------------------------------------------------------- the bundled build
def test_bundled_build_publishes_every_record(built: Built) -> None:
    r = built.report
    assert sorted(r.published) == KEYS
    assert r.rejected == [] and r.errors == [] and r.exit_code == 0
    assert r.triples > 5000
    assert "liu-shaoqi" in r.no_qid and "zhou-enlai" in r.no_qid and "joseph-stalin" not in r.no_qid


def test_one_named_graph_per_record_plus_shared_graphs(built: Built) -> None:
    store = EmbeddedStore(built.store)
    graphs = {g.value for g in store.oxigraph.named_graphs()}
    assert {f"{BASE}graph/document/{k}" for k in KEYS} <= graphs
    assert {f"{BASE}graph/authority", f"{BASE}graph/ontology", f"{BASE}graph/provenance"} <= graphs
    assert ask(store, f"GRAPH <{BASE}graph/document/{SEED_B}> {{ <{BASE}id/document/{SEED_B}> a crm:E31_Document }}")
    assert ask(store, f"GRAPH <{BASE}graph/authority> {{ <{BASE}id/person/joseph-stalin> owl:sameAs wd:Q855 ; skos:altLabel 'I. V. Stalin' }}")
    assert not ask(store, f"<{BASE}id/person/liu-shaoqi> owl:sameAs ?q")


def test_provenance_per_record_graph(built: Built) -> None:
    store = EmbeddedStore(built.store)
    sha = hashlib.sha256((built.data / "records" / f"{SEED_B}.yaml").read_bytes()).hexdigest()
    assert ask(store, f"""GRAPH <{BASE}graph/provenance> {{
        <{BASE}graph/document/{SEED_B}> a prov:Entity ; prov:generatedAtTime ?t ;
            prov:wasDerivedFrom <urn:sha256:{sha}> ; prov:wasGeneratedBy ?build .
        <urn:sha256:{sha}> rdfs:label "records/{SEED_B}.yaml" .
        ?build a prov:Activity ; prov:startedAtTime ?t ; prov:endedAtTime ?end ; prov:wasAssociatedWith ?sw .
        ?sw a prov:SoftwareAgent ; owl:versionInfo "{__version__}" }}""")
    n = store.query(PREFIXES + f"SELECT (COUNT(?g) AS ?n) WHERE {{ GRAPH <{BASE}graph/provenance> {{ ?g prov:wasDerivedFrom ?src }} }}")
    assert int(next(iter(n))["n"].value) == len(KEYS) + 2      # records + authority + ontology


def test_ontology_graph_has_crm_and_vocabulary_at_the_base(built: Built) -> None:
    store = EmbeddedStore(built.store)
    assert ask(store, f"""GRAPH <{BASE}graph/ontology> {{ crm:E31_Document rdfs:subClassOf crm:E73_Information_Object .
        <{BASE}vocab/document-type/diary-entry> skos:prefLabel "Diary entry"@en ; skos:inScheme <{BASE}vocab/document-type> .
        <{BASE}vocab/language/ru> a crm:E56_Language ; skos:notation "ru" }}""")
    assert not ask(store, "?s ?p ?o FILTER(CONTAINS(STR(?s), 'placeholder') || CONTAINS(STR(?o), 'placeholder'))")


def test_catalog_entries_sets_and_meta(built: Built) -> None:
    store = EmbeddedStore(built.store)
    cat = store.catalog
    entries = {e.key: e for e in cat.all()}
    assert sorted(entries) == KEYS
    b = entries[SEED_B]
    assert b.graph == f"{BASE}graph/document/{SEED_B}" and not b.deleted and b.source == f"records/{SEED_B}.yaml"
    assert "language:ru" in b.sets and any(s.startswith("archive:") for s in b.sets)
    assert b.title.startswith("Diary of Soviet Ambassador P.F. Yudin")
    sets = cat.sets()
    assert sets["language:ru"] == "Russian" and sets["language"] == "Languages"
    assert sets["subject:japan-foreign-relations-taiwan"] == "Japan--Foreign relations--Taiwan"
    meta = cat.meta()
    assert meta["base_uri"] == BASE and meta["version"] == __version__
    assert meta["triples"] == str(built.report.triples) and meta["built_at"].endswith("Z")


def test_dumps_hold_the_whole_dataset(built: Built) -> None:
    store = EmbeddedStore(built.store)
    union = {str(q.triple) for q in store.oxigraph}
    nt = {str(t) for t in ox.parse(gzip.open(store.dumps / "dataset.nt.gz"), ox.RdfFormat.N_TRIPLES)}
    ttl = {str(t) for t in ox.parse(gzip.open(store.dumps / "dataset.ttl.gz"), ox.RdfFormat.TURTLE)}
    assert nt == union and ttl == union
    # a real client too: rapper (raptor2) parses the Turtle dump
    raw = gzip.decompress((store.dumps / "dataset.ttl.gz").read_bytes())
    proc = subprocess.run(["rapper", "-i", "turtle", "-c", "-", BASE], input=raw, capture_output=True, timeout=120)
    assert proc.returncode == 0, proc.stderr.decode()
    assert f"returned {len(union)} triples".encode() in proc.stderr or b"returned" in proc.stderr



def test_dumps_are_plain_gzip_for_the_tools_crawlers_use(built: Built) -> None:
    """The dumps are written by ISA-L (lod.dumps): the same gzip format zcat and every client reads."""
    dumps = EmbeddedStore(built.store).dumps
    for name in ("dataset.nt.gz", "dataset.ttl.gz"):
        proc = subprocess.run(["gzip", "-t", str(dumps / name)], capture_output=True, timeout=60)
        assert proc.returncode == 0, proc.stderr.decode()
        zcat = subprocess.run(["gzip", "-dc", str(dumps / name)], capture_output=True, timeout=60, check=True)
        assert zcat.stdout == gzip.decompress((dumps / name).read_bytes()) and zcat.stdout.endswith(b" .\n")


def test_a_dump_writer_compresses_with_isa_l_where_it_is_installed(tmp_path: Path) -> None:
    from isal import igzip

    from lod import dumps

    assert dumps._gzip is igzip and dumps.GZIP_LEVEL == 1
    w = dumps.Background(tmp_path / "x.nt.gz")
    lines = b"".join(b"<http://example.org/%d> <http://example.org/p> \"%d\" .\n" % (i, i) for i in range(50_000))
    w.write(lines[:1000])
    w.write(lines[1000:])
    w.close()
    assert gzip.decompress((tmp_path / "x.nt.gz").read_bytes()) == lines
    assert (tmp_path / "x.nt.gz").stat().st_size < len(lines) / 5

# ----------------------------------------------------------------------------------- rebuilds
def test_rebuild_identical_graphs_and_stable_datestamps(tmp_path: Path) -> None:
    data = copy_data(tmp_path)
    first = build(settings(tmp_path, data))
    time.sleep(1.1)
    second = build(settings(tmp_path, data))
    a, b = graph_lines(first.build_dir), graph_lines(second.build_dir)
    prov = f"{BASE}graph/provenance"
    assert {g: v for g, v in a.items() if g != prov} == {g: v for g, v in b.items() if g != prov}
    stamps1 = {e.key: e.datestamp for e in Catalog(first.build_dir / "catalog.sqlite", readonly=True).all()}
    stamps2 = {e.key: e.datestamp for e in Catalog(second.build_dir / "catalog.sqlite", readonly=True).all()}
    assert stamps1 == stamps2

    # change one record, withdraw one, remove one: only those get new datestamps
    rec = data / "records" / "300237.yaml"
    rec.write_text(rec.read_text().replace("title: ", "title: Revised - ", 1))
    withdrawn = data / "records" / "300238.yaml"
    withdrawn.write_text(withdrawn.read_text() + "withdrawn: true\n")
    (data / "records" / "300239.yaml").unlink()
    time.sleep(1.1)
    third = build(settings(tmp_path, data))
    cat3 = {e.key: e for e in Catalog(third.build_dir / "catalog.sqlite", readonly=True).all()}
    changed = {k for k in cat3 if cat3[k].datestamp != stamps2.get(k)}
    assert changed == {"300237", "300238", "300239"}
    assert cat3["300238"].deleted and cat3["300239"].deleted and not cat3["300237"].deleted
    assert third.withdrawn == ["300238"] and sorted(third.deleted) == ["300238", "300239"]
    store = EmbeddedStore(tmp_path / "store")
    assert not ask(store, f"GRAPH <{BASE}graph/document/300238> {{ ?s ?p ?o }}")
    assert ask(store, f"<{BASE}id/document/300237> dcterms:title ?t FILTER(STRSTARTS(?t, 'Revised - '))")

    time.sleep(1.1)
    fourth = build(settings(tmp_path, data))
    cat4 = {e.key: e for e in Catalog(fourth.build_dir / "catalog.sqlite", readonly=True).all()}
    assert {k: e.datestamp for k, e in cat4.items()} == {k: e.datestamp for k, e in cat3.items()}
    assert len(list((tmp_path / "store" / "builds").iterdir())) <= 2      # old builds pruned


def test_other_base_uri(tmp_path: Path) -> None:
    base = "https://archive.example.org/lod/"
    b = build_into(tmp_path, base=base)
    store = EmbeddedStore(b.store)
    assert ask(store, f"<{base}id/document/{SEED_B}> crm:P2_has_type <{base}vocab/document-type/memorandum-of-conversation>")
    assert not ask(store, "?s ?p ?o FILTER(STRSTARTS(STR(?s), 'http://localhost:8080/'))")
    assert store.catalog.meta()["base_uri"] == base


def test_enrichment_graph_loaded_and_broken_one_reported(tmp_path: Path) -> None:
    data = copy_data(tmp_path)
    (data / "wikidata").mkdir()
    (data / "wikidata" / "enrichment.ttl").write_text(
        f'<{BASE}id/person/joseph-stalin> <http://www.w3.org/2000/01/rdf-schema#label> "Иосиф Сталин"@ru .\n')
    report = build(settings(tmp_path, data))
    store = EmbeddedStore(tmp_path / "store")
    assert ask(store, f"GRAPH <{BASE}graph/wikidata> {{ ?p rdfs:label 'Иосиф Сталин'@ru }}")
    assert report.exit_code == 0
    (data / "wikidata" / "enrichment.ttl").write_text("<broken turtle")
    report = build(settings(tmp_path, data))
    assert [e.file for e in report.errors] == ["wikidata/enrichment.ttl"]
    assert sorted(report.published) == KEYS


# ----------------------------------------------------------------------------------- bad input
def _write(path: Path, data: dict) -> None:
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")


def test_bad_records_reported_with_location_others_published(tmp_path: Path) -> None:
    data = copy_data(tmp_path)
    recs = data / "records"
    seed_b = yaml.safe_load((recs / f"{SEED_B}.yaml").read_text())
    seed_b.pop("_import", None)
    _write(recs / "no-title.yaml", {**seed_b, "key": "no-title", "record_id": "", "title": ""})
    _write(recs / "bad-date.yaml", {**seed_b, "key": "bad-date", "record_id": "", "date": "1954-02-31"})
    _write(recs / "vague-date.yaml", {**seed_b, "key": "vague-date", "record_id": "", "date": "sometime in spring"})
    shutil.copy(recs / "300240.yaml", recs / "300240-copy.yaml")          # duplicate key
    _write(recs / "strangers.yaml", {"key": "strangers", "title": "Letter between strangers", "date": "1960",
                                     "authors": ["Zzyzx Qwerty"], "people": ["Blorft, Ansgar"],
                                     "addressees": ["Cde. Q. Pombo"]})
    _write(recs / "blank-id.yaml", {"key": "blank-id", "title": "A record whose ID is blank", "record_id": " "})
    (recs / "empty.yaml").write_bytes(b"")
    (recs / "garbage.yaml").write_bytes(bytes(range(256)) * 4)
    (recs / "latin1.yaml").write_bytes("key: latin1\ntitle: Caf\xe9 conversation\n".encode("latin-1"))
    before = (recs / "blank-id.yaml").read_bytes()

    report = build(settings(tmp_path, data))
    assert report.exit_code == 1
    errors = {Path(e.file).name: e for e in report.errors}
    assert errors["no-title.yaml"].field == "title" and errors["no-title.yaml"].record == "no-title"
    assert errors["bad-date.yaml"].field == "date" and "1954-02-31" in errors["bad-date.yaml"].message
    assert errors["vague-date.yaml"].field == "date"
    dup = [e for e in report.errors if e.record == "300240"]
    assert len(dup) == 1 and "300240.yaml" in dup[0].message and "300240-copy.yaml" in dup[0].message
    assert {"empty.yaml", "garbage.yaml", "latin1.yaml"} <= set(errors)
    for e in report.errors:
        assert e.file and e.located().startswith(e.file)

    assert [r.key for r in report.rejected] == ["blank-id"]
    rej = report.rejected[0]
    assert rej.file == "records/blank-id.yaml" and any("identifier" in m and "empty" in m for m in rej.messages())
    assert (recs / "blank-id.yaml").read_bytes() == before                 # the source stays as it was

    assert sorted(report.published) == sorted(set(KEYS) - {"300240"} | {"strangers"})
    unknown = [w for w in report.warnings if w.startswith("record strangers, field ")]
    assert {w.split(": ")[0].split(", ")[1] for w in unknown} >= {"field authors[0]", "field people[0]", "field addressees[0]"}
    store = EmbeddedStore(tmp_path / "store")
    assert ask(store, f"<{BASE}id/document/strangers> crm:P67_refers_to ?p . ?p rdfs:label 'Ansgar Blorft'")
    assert not ask(store, f"GRAPH <{BASE}graph/document/blank-id> {{ ?s ?p ?o }}")


def test_missing_inputs_are_build_errors(tmp_path: Path) -> None:
    with pytest.raises(BuildError, match="does not exist"):
        build(settings(tmp_path, tmp_path / "nowhere"))
    (tmp_path / "empty").mkdir()
    with pytest.raises(BuildError, match="no records folder"):
        build(settings(tmp_path, tmp_path / "empty"))
    data = copy_data(tmp_path)
    (data / "authority.yaml").write_text("entities: [ {id: x, kind: alien} ]")
    with pytest.raises(BuildError, match="authority"):
        build(settings(tmp_path, data))
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("")
    with pytest.raises(BuildError, match="not writable"):
        build(config.load({"store": str(blocker / "store"), "data": str(copy_data(tmp_path / "x"))}))


# ----------------------------------------------------------------------------------- atomicity
def test_failure_midway_leaves_published_dataset(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = copy_data(tmp_path)
    build(settings(tmp_path, data))
    layout = Layout(tmp_path / "store")
    published = layout.pointer.read_text()
    calls = {"n": 0}
    import lod.build as lb
    import lod.build_records as lbr

    real = lbr.validate_record

    def failing(*a: object, **kw: object) -> object:
        calls["n"] += 1
        if calls["n"] == 5:
            raise OSError("disk on fire")
        return real(*a, **kw)

    monkeypatch.setattr(lbr, "validate_record", failing)
    with pytest.raises(OSError, match="disk on fire"):
        build(settings(tmp_path, data))
    assert layout.pointer.read_text() == published
    assert [p.name for p in (tmp_path / "store" / "builds").iterdir()] == [published.strip()]
    assert ask(EmbeddedStore(tmp_path / "store"), f"<{BASE}id/document/{SEED_B}> ?p ?o")

    monkeypatch.setattr(lbr, "validate_record", real)
    monkeypatch.setattr(lb, "shared_graphs", lambda *a: (_ for _ in ()).throw(OSError("dump failed")))
    with pytest.raises(OSError, match="dump failed"):
        build(settings(tmp_path, data))
    assert layout.pointer.read_text() == published


@pytest.mark.slow
def test_kill_9_midway_leaves_published_dataset(tmp_path: Path) -> None:
    from bench.generate import write_data

    data = copy_data(tmp_path)
    build(settings(tmp_path, data))
    layout = Layout(tmp_path / "store")
    published = layout.pointer.read_text()

    big = write_data(800, tmp_path / "big", seed=2, progress=False)
    env = {**os.environ, "LOD_STORE": str(tmp_path / "store"), "LOD_DATA": str(big)}
    proc = subprocess.Popen([sys.executable, "-c", "from lod.cli import main; main()", "build", "--progress"],
                            env=env, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True,
                            cwd=Path(__file__).resolve().parent.parent)
    try:
        assert proc.stderr is not None
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            line = proc.stderr.readline()
            if line.startswith("mapping: ") and int(line.split()[1].split("/")[0]) >= 200:
                break
            assert line or proc.poll() is None, "build ended before it could be killed"
        new_builds = [p for p in (tmp_path / "store" / "builds").iterdir() if p.name != published.strip()]
        assert new_builds and (new_builds[0] / "oxigraph").exists()      # really midway: writing a new build
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == -signal.SIGKILL
    time.sleep(2)       # workers die with their parent (PR_SET_PDEATHSIG, or their watchdog within 1 s)
    orphans = subprocess.run(["pgrep", "-f", f"LOD_DATA={big}"], capture_output=True, text=True).stdout.split()
    assert not [pid for pid in orphans if _ppid(int(pid)) == 1], "worker processes outlived the killed build"
    assert layout.pointer.read_text() == published
    store = EmbeddedStore(tmp_path / "store")
    assert ask(store, f"<{BASE}id/document/{SEED_B}> ?p ?o")
    assert not ask(store, f"<{BASE}id/document/500000> ?p ?o")

    report = build(settings(tmp_path, data))        # the next build succeeds and clears the wreck
    assert report.exit_code == 0 and layout.pointer.read_text() != published
    assert not any(p.name == new_builds[0].name for p in (tmp_path / "store" / "builds").iterdir())


def test_a_build_that_cannot_fit_on_its_disk_stops_early_and_publishes_nothing(tmp_path: Path) -> None:
    """The headroom asked for is more than any disk has, so the projection after the first 200 of 300
    records cannot fit: the build stops there (not at the end), removes what it wrote and keeps the
    published dataset. Through the CLI: exit 2 and one line saying why and what to do."""
    from bench.generate import write_data
    from lod.cli import cli

    data = copy_data(tmp_path)
    build(settings(tmp_path, data))
    layout = Layout(tmp_path / "store")
    published = layout.pointer.read_text()
    big = write_data(300, tmp_path / "big", seed=4, progress=False)
    huge = config.load({"store": str(tmp_path / "store"), "data": str(big), "base_uri": BASE, "offline": True,
                        "disk_headroom_mb": 2**40})
    seen: list[tuple[str, int, int]] = []
    with pytest.raises(BuildError, match=r"^not enough disk space: after 200 of 300 records this build projects "
                                         r"to about [0-9.]+ GB.*disk_headroom_mb to -1"):
        build(huge, progress=lambda *a: seen.append(a))
    assert max(done for stage, done, _ in seen if stage == "mapping") < 300
    assert layout.pointer.read_text() == published
    assert [p.name for p in (tmp_path / "store" / "builds").iterdir()] == [published.strip()]

    from click.testing import CliRunner

    res = CliRunner().invoke(cli, ["build", "--store", str(tmp_path / "store"), "--data", str(big),
                                   "--base-uri", BASE, "--disk-headroom-mb", str(2**40)])
    assert res.exit_code == 2 and res.stderr.startswith("error: not enough disk space") and "Traceback" not in res.output
    res = CliRunner().invoke(cli, ["build", "--store", str(tmp_path / "store"), "--data", str(big),
                                   "--base-uri", BASE, "--disk-headroom-mb", "many"])
    assert res.exit_code == 2 and "many" in res.stderr
    # -1: no check; the same build goes through
    report = build(huge.replace(disk_headroom_mb=-1))
    assert report.exit_code in (0, 1) and len(report.published) >= 290 and layout.pointer.read_text() != published


def test_disk_projection_numbers() -> None:
    from lod import diskspace

    assert diskspace.checkpoints(13) == set() and diskspace.checkpoints(200) == set()
    assert diskspace.checkpoints(1_000_000) == {20_000, 100_000, 300_000, 600_000}
    # 1,000 of 100,000 records made 200 MB of N-Triples: about 48 GB at the end
    fits = diskspace.shortfall(1000, 100_000, 200_000_000, used=1_000_000_000, free=60_000_000_000, headroom=0)
    assert fits is None
    why = diskspace.shortfall(1000, 100_000, 200_000_000, used=1_000_000_000, free=40_000_000_000, headroom=0)
    assert why is not None and "about 48.0 GB" in why and "can have 41.0 GB" in why
    assert diskspace.shortfall(1000, 100_000, 200_000_000, 1_000_000_000, 60_000_000_000, 20 * 10**9) is not None
    assert diskspace.shortfall(0, 100, 0, 0, 0, 0) is None


def _ppid(pid: int) -> int:
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, ValueError, IndexError):
        return -1


def test_parallel_build_equals_sequential_build(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Worker processes change nothing but speed: same graphs, catalog, dumps and report."""
    import lod.build_records as lbr

    data = copy_data(tmp_path)
    (data / "records" / "strangers.yaml").write_text(yaml.safe_dump(
        {"key": "strangers", "title": "T", "authors": ["Zzyzx Qwerty"], "people": ["Kenzō Nakajimo", "Nakajimo, Kenzo"]}))
    (data / "records" / "blank-id.yaml").write_text(yaml.safe_dump({"key": "blank-id", "title": "T", "record_id": " "}))
    monkeypatch.setattr(lbr, "CHUNK", 3)            # several chunks, interleaved between the workers
    reports = {}
    for workers in (1, 2):
        s = config.load({"store": str(tmp_path / f"store{workers}"), "data": str(data), "base_uri": BASE,
                         "build_workers": str(workers)})
        reports[workers] = build(s)
        assert reports[workers].timings["workers"] == workers
    one, two = reports[1], reports[2]
    assert one.published == two.published and one.warnings == two.warnings and one.no_qid == two.no_qid
    assert [(r.key, r.messages()) for r in one.rejected] == [(r.key, r.messages()) for r in two.rejected]
    prov = f"{BASE}graph/provenance"
    a, b = graph_lines(one.build_dir), graph_lines(two.build_dir)
    assert {g: v for g, v in a.items() if g != prov} == {g: v for g, v in b.items() if g != prov}
    cat1 = [(e.key, e.checksum, e.sets, e.deleted) for e in Catalog(one.build_dir / "catalog.sqlite", readonly=True).all()]
    cat2 = [(e.key, e.checksum, e.sets, e.deleted) for e in Catalog(two.build_dir / "catalog.sqlite", readonly=True).all()]
    assert cat1 == cat2
    for name in ("dataset.nt.gz", "dataset.ttl.gz"):
        parse = ox.RdfFormat.N_TRIPLES if name.endswith("nt.gz") else ox.RdfFormat.TURTLE
        d1 = {str(t) for t in ox.parse(gzip.open(one.build_dir / "dumps" / name), parse)
              if "/ns/prov#" not in str(t) and "/graph/provenance" not in str(t)}
        d2 = {str(t) for t in ox.parse(gzip.open(two.build_dir / "dumps" / name), parse)
              if "/ns/prov#" not in str(t) and "/graph/provenance" not in str(t)}
        assert d1 == d2


def test_progress_is_reported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from lod import described

    monkeypatch.setattr(described, "CHUNK", 5)        # documents described per task: three tasks here
    data = copy_data(tmp_path)
    seen: list[tuple[str, int, int]] = []
    build(settings(tmp_path, data), progress=lambda *a: seen.append(a))
    n = len(KEYS)
    assert ("mapping", 0, n) in seen and ("mapping", n, n) in seen and ("dumps", 1, 1) in seen
    assert [a for a in seen if a[0] == "describing"] == [("describing", d, n) for d in (0, 5, 10, n)]


def test_a_record_is_hashed_and_mapped_from_one_read_of_its_file(tmp_path: Path) -> None:
    """Provenance's urn:sha256 names the bytes that were mapped; the worker reads each file once."""
    from lod.authority import Authority
    from lod.build_records import Job, process
    from lod.dumps import TurtleWriter
    from lod.mapping import Mapper
    from lod.uris import Minter

    data = copy_data(tmp_path)
    path = data / "records" / f"{SEED_B}.yaml"
    reads: list[Path] = []

    class Counted(type(path)):  # type: ignore[misc]
        def read_bytes(self) -> bytes:
            reads.append(self)
            return super().read_bytes()

    job = Job(Mapper(Authority.load(data / "authority.yaml"), Minter(BASE)), [(Counted(path), None)])
    out = process(job, 0, TurtleWriter())
    assert out.accepted and out.key == SEED_B and out.triples > 100
    assert out.file_sha == hashlib.sha256(path.read_bytes()).hexdigest()
    assert len(reads) == 1
    # a record handed over already parsed (lod validate's path) still gets its file's hash
    from lod.sources.record_files import load

    job = Job(job.mapper, [(Counted(path), load(path))])
    assert process(job, 0, TurtleWriter()).file_sha == out.file_sha and len(reads) == 2
    # with the build's provenance, the worker makes the graph's provenance from that same hash
    from lod.provenance import Provenance

    assert out.prov is None
    job = Job(job.mapper, [(path, None)], provenance=Provenance(Minter(BASE), "b-1", "2026-11-23T00:00:00Z", data))
    prov = process(job, 0, TurtleWriter()).prov
    assert prov is not None and prov.source == f"records/{SEED_B}.yaml" and prov.named == [f"urn:sha256:{out.file_sha}"]
    assert f"<{BASE}graph/document/{SEED_B}> <http://www.w3.org/ns/prov#wasDerivedFrom> <urn:sha256:{out.file_sha}>" \
        in prov.nt.decode()


def test_reader_feeds_bulk_load_exactly() -> None:
    from lod.build_records import Reader

    chunks = [b"ab", b"", b"cdefg", b"h", b"ijklmnop"]
    r = Reader(iter(chunks))
    assert r.read(3) == b"abc" and r.read(1) == b"d" and r.read(6) == b"efghij" and r.read(-1) == b"klmnop"
    assert r.read(5) == b""
    # through pyoxigraph: N-Quads split anywhere still load whole
    nq = b"".join(f"<urn:s:{i}> <urn:p> \"v\\u00e9 {i}\" <urn:g> .\n".encode() for i in range(2000))
    parts = [nq[i:i + 777] for i in range(0, len(nq), 777)]
    store = ox.Store()
    store.bulk_load(Reader(iter(parts)), ox.RdfFormat.N_QUADS)
    assert len(store) == 2000


def test_the_build_collects_garbage_less_while_records_stream_then_as_before() -> None:
    import gc

    from lod.build_records import GC_THRESHOLD, collecting_less

    before, frozen = gc.get_threshold(), gc.get_freeze_count()
    with collecting_less():
        assert gc.get_threshold()[0] == GC_THRESHOLD and gc.get_freeze_count() > frozen
    assert gc.get_threshold() == before and gc.get_freeze_count() == 0
    with pytest.raises(KeyError), collecting_less():      # a failed build leaves the collector as it found it
        raise KeyError("x")
    assert gc.get_threshold() == before and gc.get_freeze_count() == 0


@examples(max_examples=300, deadline=None)
@given(st.one_of(st.text(max_size=12).map(lambda s: "'" + s.replace("'", "''") + "'"),
                 st.integers(-10, 10**12).map(str), st.text(max_size=12),
                 st.sampled_from(["'116814'", "0", "007", "1_000", "12:30", "0x1F", "1e3", "yes", "~", "'a' # c",
                                  "'tab\there'", "'é'", "\"x\"", "'\u2028'"])))
def test_file_keys_read_a_key_line_as_yaml_does(tmp_path_factory: pytest.TempPathFactory, written: str) -> None:
    """The build's duplicate-key pass reads common keys without YAML: the same key as YAML reads on that
    line (spaces and tabs around it aside), or None alike."""
    from lod.build_records import file_keys

    path = tmp_path_factory.mktemp("keys") / "r.yaml"
    raw = f"# a record\nkey: {written}\ntitle: x\n".encode()
    path.write_bytes(raw)
    try:
        value = yaml.load("key: " + written.strip(" \t"), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))["key"]  # noqa: S506
    except (yaml.YAMLError, TypeError, KeyError):
        value = None
    expected = str(value) if isinstance(value, str | int) and not isinstance(value, bool) else None
    if "\n" in written or "\r" in written:      # not one line: the pass leaves it to the full read
        return
    assert file_keys([path])[path] == expected
