"""Whether a build will fit on its disk, known a few minutes in rather than at the end.

Why: the first million-record build ran 1 h 42 min and then failed with "No space left on device"
as the bulk loader wrote its last files (bench/RESULTS.md, "One million records"). A failed build
publishes nothing and gives its disk back, but the hours are lost. What a build leaves on disk
(store, dumps, prepared OAI-PMH records, kept descriptions, catalog) follows the N-Triples of its
dataset: 1.98-2.22 bytes per byte, measured on 1,000 synthetic records with and without bodies,
10,000 of them and the 13 bundled records. (Text repeated over and over, which RocksDB compresses
well, took 0.82: there the projection errs high, and -1 turns it off.) So once a sample of records
has gone by, the build projects its size
from the N-Triples it has made so far and stops if that, plus the headroom asked for, is more than
it can have: what is free plus what it has already written.

Sans-IO but for two reads of the file system, so the numbers are easy to test.
"""

from __future__ import annotations

import math
import os
import shutil
from pathlib import Path

FACTOR = 2.4            # bytes on disk per byte of record-graph N-Triples: the measured 2.22 and 8 % more
SAMPLE = 200            # records before the first projection (fewer project noise)
CHECK_AT = (0.02, 0.10, 0.30, 0.60)    # fractions of the records at which the projection is checked
GB = 1e9


def checkpoints(total: int) -> set[int]:
    """Counts of records done after which to check; none for a build too small to matter."""
    return {n for n in (max(SAMPLE, math.ceil(total * f)) for f in CHECK_AT) if n < total}


def written(path: Path) -> int:
    """Bytes of the files under ``path`` (what the build has written so far)."""
    total = 0
    for root, _dirs, files in os.walk(path):
        for name in files:
            try:
                total += os.stat(os.path.join(root, name)).st_size
            except OSError:
                pass            # a file the bulk loader just renamed or removed
    return total


def shortfall(done: int, total: int, nt_bytes: int, used: int, free: int, headroom: int) -> str | None:
    """Why the build cannot fit (one sentence with the numbers), or None. ``nt_bytes``: N-Triples of
    the ``done`` record graphs made so far; ``used``: bytes the build has written; ``free``: free
    bytes on its disk now; ``headroom``: bytes to leave free at the end."""
    if done <= 0:
        return None
    need = FACTOR * nt_bytes * total / done
    have = free + used - headroom
    if need <= have:
        return None
    left = f", leaving {headroom / GB:.1f} GB free as disk_headroom_mb asks" if headroom else ""
    return (f"not enough disk space: after {done:,} of {total:,} records this build projects to about "
            f"{need / GB:.1f} GB, and it can have {max(have, 0) / GB:.1f} GB ({free / GB:.1f} GB free "
            f"plus the {used / GB:.1f} GB it has written{left}); nothing was published. Free some space, "
            f"or set disk_headroom_mb to -1 to build anyway")


def check(build_dir: Path, done: int, total: int, nt_bytes: int, headroom_mb: int) -> str | None:
    """:func:`shortfall` for ``build_dir`` now; None when checking is off (``headroom_mb`` < 0)."""
    if headroom_mb < 0:
        return None
    return shortfall(done, total, nt_bytes, written(build_dir), shutil.disk_usage(build_dir).free,
                     headroom_mb * 2**20)
