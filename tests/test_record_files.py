"""Record files: human-editable YAML, curator edits never overwritten, broken files located."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from lod.records import Record, RecordError
from lod.sources import record_files
from lod.sources.pages import read_page

ROOT = Path(__file__).resolve().parent.parent
RECORDS = ROOT / "data" / "records"
SEED_B = ROOT / "data" / "sources" / "pages" / \
    "diary-soviet-ambassador-pf-yudin-memorandum-conversation-liu-shaoqi-30-october-1956.txt"


@pytest.fixture
def seed() -> Record:
    return read_page(SEED_B)


@pytest.fixture
def records(tmp_path) -> Path:
    d = tmp_path / "records"
    shutil.copytree(RECORDS, d)
    return d


def test_bundled_records_load(records):
    loaded, errors = record_files.load_all(records)
    assert errors == []
    assert len(loaded) == 13
    keys = {r.key for _, r in loaded}
    assert {"116814", "300638", "journal-ambassador-p-f-yudin-record-conversation-liu-shaoqi-and-zhou-enlai-13-february"} <= keys
    for path, r in loaded:
        assert path.name == f"{r.key}.yaml"


def test_file_is_human_editable_and_round_trips(tmp_path, seed):
    res = record_files.write(seed, tmp_path, provenance={"source": SEED_B.name})
    assert res.status == "created" and res.path == tmp_path / "116814.yaml"
    text = res.path.read_text(encoding="utf-8")
    assert text.startswith("# Record file")
    assert "\nbody: |-\n  Today I had a discussion with Liu Shaoqi" in text      # block style
    keys = [line.split(":")[0] for line in text.splitlines() if line and line[0].isalpha()]
    assert keys[:4] == ["key", "title", "record_id", "slug"] and keys[-1] == "body"  # Record field order
    data = yaml.safe_load(text)
    assert data["_import"] == {"source": SEED_B.name, "checksum": seed.checksum()}
    assert record_files.load(res.path) == seed


def test_load_parses_the_bytes_it_is_given_not_the_file_again(records):
    """The build hashes the bytes it read (provenance) and maps the same bytes: an edit saved between
    the two cannot make a record's hash describe another text."""
    path = records / "116814.yaml"
    raw = path.read_bytes()
    path.write_bytes(raw.replace(b"\ntitle: ", b"\ntitle: Edited during the build, "))
    assert record_files.load(path, raw).title == record_files.load(records / "116814.yaml", raw).title
    assert not record_files.load(path, raw).title.startswith("Edited")
    assert record_files.load(path).title.startswith("Edited during the build")
    with pytest.raises(RecordError, match="not valid YAML") as err:
        record_files.load(path, b"key: [unclosed")
    assert err.value.file == str(path)


def test_reimport_unchanged_updated_kept_forced(tmp_path, seed):
    path = record_files.write(seed, tmp_path).path
    assert record_files.write(seed, tmp_path).status == "unchanged"
    seed.summary = "A corrected summary from the source."
    assert record_files.write(seed, tmp_path).status == "updated"       # file was untouched: follow source
    assert record_files.load(path).summary == "A corrected summary from the source."

    edited = path.read_text(encoding="utf-8").replace("A corrected summary", "A curator's summary")
    path.write_text(edited, encoding="utf-8")
    seed.summary = "Yet another source summary."
    res = record_files.write(seed, tmp_path)
    assert res.status == "kept" and res.new_path == tmp_path / "116814.yaml.new"
    assert path.read_text(encoding="utf-8") == edited                  # curator's file untouched
    assert record_files.load(res.new_path).summary == "Yet another source summary."
    loaded, errors = record_files.load_all(tmp_path)                    # .new files are not records
    assert errors == [] and [r.summary for _, r in loaded] == ["A curator's summary from the source."]

    res = record_files.write(seed, tmp_path, force=True)
    assert res.status == "forced" and not res.new_path and not (tmp_path / "116814.yaml.new").exists()
    assert record_files.load(path).summary == "Yet another source summary."


def test_curator_edit_that_breaks_the_file_is_still_kept(tmp_path, seed):
    path = record_files.write(seed, tmp_path).path
    path.write_text("key: '116814'\ntitle: [unclosed\n", encoding="utf-8")
    assert record_files.write(seed, tmp_path).status == "kept"
    assert path.read_text(encoding="utf-8") == "key: '116814'\ntitle: [unclosed\n"


def test_unquoted_dates_written_by_a_curator_are_text(tmp_path, seed):
    path = record_files.write(seed, tmp_path).path
    path.write_text(path.read_text(encoding="utf-8").replace("date: '1956-11-22'", "date: 1956-11-22"),
                    encoding="utf-8")
    assert record_files.load(path).date == "1956-11-22"


def test_unsafe_key_is_refused(tmp_path, seed):
    seed.key = "../escape"
    with pytest.raises(record_files.RecordError) as exc:
        record_files.write(seed, tmp_path)
    assert exc.value.field == "key"
    assert list(tmp_path.parent.glob("escape*")) == []


BROKEN = {
    # file content, (field, message fragment)
    "wrong-types.yaml": ("key: wrong-types\ntitle: A title\nauthors: Yudin\n", ("authors", "expected a list")),
    "nested-type.yaml": ("key: nested-type\ntitle: A title\ncitation:\n  fond: [1, 2]\n",
                         ("citation.fond", "expected text")),
    "unknown-field.yaml": ("key: unknown-field\ntitle: T\nauthor: Yudin\n", ("author", "unknown field")),
    "no-title.yaml": ("key: no-title\nsummary: s\n", ("title", "missing title")),
    "bad-date.yaml": ("key: bad-date\ntitle: T\nentry_date: '1954-02-31'\n", ("entry_date", "impossible date")),
    "syntax.yaml": ("key: syntax\ntitle: T\nsummary: a: b\n", (None, "not valid YAML")),
    "empty.yaml": ("", (None, "empty file")),
    "list.yaml": ("- a\n- b\n", (None, "must be a mapping")),
}


@pytest.mark.parametrize("name", sorted(BROKEN))
def test_broken_record_file_is_located_and_the_others_load(records, name):
    content, (field, fragment) = BROKEN[name]
    (records / name).write_text(content, encoding="utf-8")
    loaded, errors = record_files.load_all(records)
    assert len(loaded) == 13
    (err,) = errors
    assert err.file == str(records / name) and name in err.located() and fragment in err.message
    if field:
        stem = name.removesuffix(".yaml")
        assert (err.field, err.record) == (field, stem)
        assert f"record {stem}" in err.located() and f"field {field}" in err.located()
    if name == "syntax.yaml":
        assert err.line == 3 and "syntax.yaml:3" in err.located()


def test_non_utf8_and_binary_record_files(records):
    (records / "latin1.yaml").write_bytes("key: x\ntitle: Caf\u00e9\n".encode("latin-1"))
    (records / "binary.yaml").write_bytes(b"\x00\x01\x02" * 50)
    loaded, errors = record_files.load_all(records)
    assert len(loaded) == 13
    messages = sorted(e.located() for e in errors)
    assert "binary" in messages[0] and "binary.yaml" in messages[0]
    assert "not UTF-8" in messages[1] and "latin1.yaml:2" in messages[1]


def test_duplicate_keys_across_files_name_every_file(records):
    original = records / "300638.yaml"
    shutil.copy(original, records / "copy-of-300638.yaml")
    loaded, errors = record_files.load_all(records)
    (err,) = errors
    assert err.record == "300638" and err.field == "key"
    assert str(original) in err.message and str(records / "copy-of-300638.yaml") in err.message
    keys = [r.key for _, r in loaded]
    assert "300638" not in keys and len(keys) == 12          # the others are all still there
