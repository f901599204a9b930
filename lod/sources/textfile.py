"""Reading source files as text: empty, binary and non-UTF-8 files become located RecordErrors.

Sources are UTF-8 (a byte-order mark is accepted). We never guess another encoding: a wrong guess
silently corrupts names ("Vas'kov", "Satō"), so a curator is told where the bad bytes are instead.
"""

from __future__ import annotations

import re
from pathlib import Path

from lod.records import RecordError

# control characters other than tab, newline, carriage return, form feed (a regex: fast on 100k files)
_CONTROLS = re.compile("[\x00-\x08\x0b\x0e-\x1f]")


def decode(data: bytes, *, file: str) -> str:
    """Decode source bytes as UTF-8; RecordError (with line) for empty, binary or non-UTF-8 input."""
    if not data.strip():
        raise RecordError("empty file: nothing to import", file=file)
    nul = data.find(b"\x00")
    if nul >= 0:
        line = data.count(b"\n", 0, nul) + 1
        raise RecordError(f"binary data (NUL byte at offset {nul}): not a text source", file=file, line=line)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        bad = data[exc.start:exc.start + 4].hex(" ")
        raise RecordError(f"not UTF-8: undecodable bytes {bad} at offset {exc.start}; "
                          "re-save the file as UTF-8", file=file, line=line) from None
    controls = len(_CONTROLS.findall(text, 0, 4096))
    if controls > 8:
        raise RecordError(f"binary data ({controls} control characters in the first 4 KB): "
                          "not a text source", file=file)
    return text.replace("\r\n", "\n").replace("\r", "\n")


def read_text(path: Path) -> str:
    """Read a source file as UTF-8 text; an unreadable file is a RecordError naming it."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise RecordError(f"cannot read: {exc.strerror or exc}", file=str(path)) from None
    return decode(data, file=str(path))
