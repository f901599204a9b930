"""Descriptions kept by the build (lod.described): served byte for byte as a live description would be,
and never served when they could be stale or are damaged."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pyoxigraph as ox
import pytest
import zstandard
from conftest import Built, build_into, close_app, make_app

from lod import config, described
from lod.describe import Describer
from lod.oai.prepared import PreparedFiles
from lod.render import BY_EXT, serialize_lines
from lod.store import EmbeddedStore
from lod.uris import Minter
from lod.web.documents import State

EXTS = ("ttl", "nt", "jsonld", "rdf", "html")
HEADERS = ("Content-Type", "ETag", "Last-Modified", "Link", "Cache-Control")


def _copy(built: Built, tmp: Path) -> tuple[Built, Path]:
    """A copy of the built store and the path of its described file."""
    shutil.copytree(built.store, tmp / "store")
    copy = Built(store=tmp / "store", data=built.data, base=built.base, report=built.report)
    (path,) = copy.store.glob(f"builds/*/{described.FILE}")
    return copy, path


def _live(store: Path, base: str) -> tuple[Describer, dict[str, str]]:
    settings = config.load({"store": str(store), "base_uri": base})
    st = EmbeddedStore(store)
    return (Describer(st, Minter(base), licence=settings.licence, prepared=PreparedFiles(settings, described=False)),
            st.catalog.meta())


def test_the_build_keeps_every_published_document(built) -> None:  # noqa: ANN001
    keys = sorted(built.report.published)
    assert built.report.described == len(keys) == 13
    (path,) = built.store.glob(f"builds/*/{described.FILE}")
    with sqlite3.connect(path) as db:
        assert sorted(r[0] for r in db.execute("SELECT key FROM documents")) == keys


def test_kept_descriptions_are_the_live_ones_byte_for_byte(built, tmp_path: Path) -> None:  # noqa: ANN001
    """Every format and header of every document: from the kept description, and from a copy of the
    store without the file (described per request)."""
    copy, path = _copy(built, tmp_path)
    path.unlink()
    kept, live = make_app(built), make_app(copy)
    try:
        describer = State.of(kept).describer
        for key in sorted(built.report.published):
            desc = describer.describe(f"{built.base}id/document/{key}")
            assert desc is not None and desc.turtle is not None, key      # really read from the file
            assert State.of(live).describer.describe(f"{built.base}id/document/{key}").turtle is None
            for ext in EXTS:
                a, b = (app.test_client().get(f"/data/document/{key}.{ext}") for app in (kept, live))
                assert a.status_code == b.status_code == 200, (key, ext)
                assert a.data == b.data, (key, ext)
                # the two stores are the same build: same validators
                assert [a.headers.get(h) for h in HEADERS] == [b.headers.get(h) for h in HEADERS], (key, ext)
            ttl = kept.test_client().get(f"/data/document/{key}.ttl").data
            assert {q.triple for q in ox.parse(ttl, ox.RdfFormat.TURTLE)} == set(desc.triples)
            tag = kept.test_client().get(f"/data/document/{key}.ttl").headers["ETag"]
            again = kept.test_client().get(f"/data/document/{key}.ttl", headers={"If-None-Match": tag})
            assert again.status_code == 304 and again.data == b""
        assert kept.test_client().get(f"/data/document/{key}.ttl?page=2").status_code == 404
        assert kept.test_client().get("/data/document/no-such-record.ttl").status_code == 404
    finally:
        close_app(kept)
        close_app(live)


def test_other_settings_make_documents_described_live(built, capfd) -> None:  # noqa: ANN001
    """A server started with another licence than the build's must not serve the kept descriptions,
    which state the old one."""
    other = "http://example.org/licence/other"
    app = make_app(built, licence=other)
    try:
        key = sorted(built.report.published)[0]
        ttl = app.test_client().get(f"/data/document/{key}.ttl").data.decode()
        assert other in ttl and "creativecommons.org/licenses/by/4.0" not in ttl
        assert "described with other base_uri/licence settings" in capfd.readouterr().err
    finally:
        close_app(app)


@pytest.mark.parametrize("damage", ["garbage file", "garbage row", "missing row", "other version"])
def test_a_damaged_or_foreign_file_falls_back_to_live(built, tmp_path: Path, damage: str) -> None:  # noqa: ANN001
    copy, path = _copy(built, tmp_path)
    key = sorted(built.report.published)[0]
    if damage == "garbage file":
        path.write_bytes(b"this is not a database" * 100)
    else:
        with sqlite3.connect(path) as db:
            if damage == "garbage row":
                db.execute("UPDATE documents SET nt = x'00', turtle = x'28b52ffd' WHERE key = ?", (key,))
            elif damage == "missing row":
                db.execute("DELETE FROM documents WHERE key = ?", (key,))
            else:
                db.execute("UPDATE meta SET value = 'made by another version' WHERE name = 'fingerprint'")
    app = make_app(copy)
    try:
        got = app.test_client().get(f"/data/document/{key}.ttl")
        assert got.status_code == 200
        describer, meta = _live(copy.store, copy.base)
        live = describer.describe(f"{copy.base}id/document/{key}", meta=meta)
        assert live is not None and live.turtle is None
        assert got.data == serialize_lines(live.nt or b"", BY_EXT["ttl"])
    finally:
        close_app(app)


def test_build_workers_keep_what_one_process_would(tmp_path: Path) -> None:
    """Two forked build workers describe the documents; each kept row is the live description."""
    two = build_into(tmp_path / "two", build_workers=2)
    keys = sorted(two.report.published)
    assert two.report.described == len(keys) == 13 and two.report.timings["describe"] > 0
    (path,) = two.store.glob(f"builds/*/{described.FILE}")
    file = described.Described(path)
    describer, meta = _live(two.store, two.base)
    for key in keys:
        nt_zst, ttl = file.get(key) or (b"", b"")
        nt = zstandard.decompress(nt_zst)
        live = describer.describe(f"{two.base}id/document/{key}", meta=meta)
        assert live is not None and nt == live.nt, key
        assert ttl == serialize_lines(nt, BY_EXT["ttl"]), key
    assert file.get("no-such-record") is None


def test_it_can_be_turned_off(tmp_path: Path) -> None:
    off = build_into(tmp_path / "off", describe_at_build=False)
    assert off.report.exit_code == 0 and off.report.described == 0
    assert not list(off.store.glob(f"builds/*/{described.FILE}")) and "describe" not in off.report.timings
    app = make_app(off)
    try:
        key = sorted(off.report.published)[0]
        assert app.test_client().get(f"/data/document/{key}.ttl").status_code == 200
    finally:
        close_app(app)
