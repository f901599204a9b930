"""Curated record files: ``data/records/<key>.yaml``, one per record, the canonical form.

They are written for people: fields in the Record's order, long text as YAML block scalars.
``_import`` (last in the file) remembers where the record came from and the checksum of what was
imported, so a re-import can tell a curator's edit from an untouched file: an edited file is
never overwritten (the new import goes to ``<key>.yaml.new`` beside it) unless forced.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from lod.records import Record, RecordError
from lod.sources.textfile import decode

HEADER = """\
# Record file (docs/sources.md). Edit freely: `lod import` never overwrites a file you changed;
# it writes <key>.yaml.new beside it instead. `_import` is bookkeeping: leave it as it is.
"""
STATUSES = ("created", "updated", "unchanged", "kept", "forced")


@dataclass
class WriteResult:
    path: Path
    status: str                  # one of STATUSES; "kept": curator edits kept, new import in new_path
    new_path: Path | None = None


class _Dumper(yaml.SafeDumper):
    pass


def _str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _str)


def dumps(record: Record, provenance: dict[str, Any] | None = None) -> str:
    """The record file text: the record, then ``_import`` with its checksum and provenance."""
    data = record.to_dict()
    data["_import"] = {**(provenance or {}), "checksum": record.checksum()}
    body = yaml.dump(data, Dumper=_Dumper, allow_unicode=True, sort_keys=False, width=100,
                     default_flow_style=False)
    return HEADER + body


def file_for(key: str, records_dir: Path) -> Path:
    if not re.fullmatch(r"[^/\\\x00]+", key) or key in (".", "..") or key.startswith("."):
        raise RecordError(f"key {key!r} cannot be a file name", record=key, field="key")
    return Path(records_dir) / f"{key}.yaml"


def write(record: Record, records_dir: Path, *, force: bool = False,
          provenance: dict[str, Any] | None = None) -> WriteResult:
    """Write ``<key>.yaml``; never silently overwrite a curator-edited file.

    created: new file. unchanged: same content already there. updated: the file was as last
    imported and the source changed. kept: the curator changed the file, so the new import went to
    ``<key>.yaml.new`` for them to merge. forced: overwritten because force=True.
    """
    records_dir = Path(records_dir)
    records_dir.mkdir(parents=True, exist_ok=True)
    path = file_for(record.key, records_dir)
    text = dumps(record, provenance)
    if not path.exists():
        _atomic_write(path, text)
        return WriteResult(path, "created")
    current, imported_sum = _read_existing(path)
    if current is not None and current == record.checksum():
        return WriteResult(path, "unchanged")
    edited = current is None or imported_sum != current
    if edited and not force:
        new = path.with_name(path.name + ".new")
        _atomic_write(new, text)
        return WriteResult(path, "kept", new)
    _atomic_write(path, text)
    stale = path.with_name(path.name + ".new")
    if force and stale.exists():
        stale.unlink()
    return WriteResult(path, "forced" if edited else "updated")


def _read_existing(path: Path) -> tuple[str | None, str | None]:
    """(checksum of the file's record as it is now, checksum recorded at import); None if unreadable."""
    try:
        data = yaml.load(decode(path.read_bytes(), file=str(path)), Loader=_TextDates)  # noqa: S506 - safe loader
        imported = (data.pop("_import", None) or {}).get("checksum") if isinstance(data, dict) else None
        return Record.from_dict(_plain(data), file=str(path)).checksum(), imported
    except (yaml.YAMLError, RecordError, AttributeError):
        return None, None


def _atomic_write(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)


def _plain(value: Any, _done: dict[int, Any] | None = None) -> Any:
    """YAML reads an unquoted 1956-11-22 as a date; a curator means the text.

    A node reached twice (a YAML alias) is converted once and shared, as YAML shares it: an alias
    bomb (``&a [x, x]``, ``[*a, *a]``, ...) stays small instead of being copied out exponentially.
    """
    if isinstance(value, dt.date):
        return value.isoformat()
    if not isinstance(value, dict | list):
        return value
    done = {} if _done is None else _done
    if id(value) in done:
        return done[id(value)]
    out: Any = {} if isinstance(value, dict) else []
    done[id(value)] = out
    if isinstance(value, dict):
        out.update((k, _plain(v, done)) for k, v in value.items())
    else:
        out.extend(_plain(v, done) for v in value)
    return out


# libyaml's loader when PyYAML has it: same safe subset, ~10x faster (100k-record builds, bench/RESULTS.md)
_SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _TextDates(_SafeLoader):  # type: ignore[misc, valid-type]
    """Unquoted dates stay the text the curator wrote: PyYAML would raise a bare ValueError on 1954-02-31;
    as text, Record.check() reports it with its field."""


_TextDates.add_constructor("tag:yaml.org,2002:timestamp", lambda loader, node: loader.construct_scalar(node))


def load(path: Path, raw: bytes | None = None) -> Record:
    """One record file as a Record; RecordError naming the file (and line, record, field).

    ``raw``: the file's bytes if the caller read them (the build hashes the very bytes it publishes)."""
    path = Path(path)
    try:
        text = decode(path.read_bytes() if raw is None else raw, file=str(path))
        data = yaml.load(text, Loader=_TextDates)  # noqa: S506 - safe loader
    except OSError as exc:
        raise RecordError(f"cannot read: {exc.strerror or exc}", file=str(path)) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise RecordError(f"not valid YAML: {problem}", file=str(path),
                          line=mark.line + 1 if mark else None) from None
    if isinstance(data, dict):
        data.pop("_import", None)
    record = Record.from_dict(_plain(data), file=str(path))
    try:
        file_for(record.key, path.parent)       # the key names a file and an IRI: no '/', '..', leading '.'
    except RecordError as exc:
        raise RecordError(exc.message, file=str(path), record=record.key, field="key") from None
    for err in record.check():
        raise RecordError(err.message, file=str(path), record=record.key, field=err.field)
    return record


def load_all(records_dir: Path) -> tuple[list[tuple[Path, Record]], list[RecordError]]:
    """Every ``*.yaml`` record file, sorted by name; broken files and duplicate keys are errors.

    A key found in several files is an error naming every one of them, and none of those records
    is returned (which one is right is a curator's call); all other records are.
    """
    records_dir = Path(records_dir)
    loaded: list[tuple[Path, Record]] = []
    errors: list[RecordError] = []
    for path in sorted(records_dir.glob("*.yaml")) if records_dir.is_dir() else []:
        try:
            loaded.append((path, load(path)))
        except RecordError as exc:
            errors.append(exc)
    by_key: dict[str, list[Path]] = {}
    for path, record in loaded:
        by_key.setdefault(record.key, []).append(path)
    dups = {k: ps for k, ps in by_key.items() if len(ps) > 1}
    for key, paths in sorted(dups.items()):
        names = ", ".join(str(p) for p in paths)
        errors.append(RecordError(f"duplicate record key in {len(paths)} files: {names}; none of them is published",
                                  file=str(paths[0]), record=key, field="key"))
    return [(p, r) for p, r in loaded if r.key not in dups], errors
