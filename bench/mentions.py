"""Benchmark: finding authority names in record bodies (lod.authority.Authority.find_mentions).

Peers measured in the same run, on the same bodies:
- tokenise: ``re.findall(r"\\w+", body)``, the cost of merely reading every word once (lower bound
  for any word-by-word matcher);
- naive: one regular expression alternating every spelling, longest first (the obvious
  implementation), on the first ``--naive`` bodies only because it is slow.

Usage: python -m bench.mentions [N] [--naive K] [--seed S] [--write]
(--write appends the figures to bench/RESULTS.md under "## Mentions (ingest)").
"""

from __future__ import annotations

import argparse
import re
import time
from pathlib import Path

from bench.generate import authority, generate
from lod.authority import _text_forms


def naive_matcher(auth):  # noqa: ANN001, ANN201
    forms = sorted({f for e in auth.entities.values() for f in _text_forms(e)}, key=len, reverse=True)
    return re.compile(r"(?<!\w)(?:" + "|".join(re.escape(f) for f in forms) + r")(?!\w)", re.I)


def run(n: int, naive_n: int, seed: int) -> dict[str, float]:
    auth = authority(seed)
    t0 = time.perf_counter()
    auth.find_mentions("warm up: compile the matcher")
    compile_s = time.perf_counter() - t0
    naive = naive_matcher(auth)
    chars = mentions = 0
    t_find = t_tok = t_naive = 0.0
    naive_chars = 0
    for i, rec in enumerate(generate(n, seed=seed)):
        body = rec.body
        chars += len(body)
        t = time.perf_counter()
        found = auth.find_mentions(body)
        t_find += time.perf_counter() - t
        mentions += len(found)
        t = time.perf_counter()
        re.findall(r"\w+", body)
        t_tok += time.perf_counter() - t
        if i < naive_n:
            t = time.perf_counter()
            naive.findall(body)
            t_naive += time.perf_counter() - t
            naive_chars += len(body)
    mb = chars / 1e6
    return {
        "records": n, "entities": len(auth.entities), "mb": mb, "mentions": mentions,
        "compile_s": compile_s, "find_s": t_find, "tokenise_s": t_tok,
        "find_mb_s": mb / t_find, "tokenise_mb_s": mb / t_tok,
        "naive_mb_s": naive_chars / 1e6 / t_naive if t_naive else 0.0,
        "ratio_tokenise": t_find / t_tok,
        "speedup_vs_naive": (naive_chars / 1e6 / t_naive and (mb / t_find) / (naive_chars / 1e6 / t_naive)),
    }


def report(r: dict[str, float], naive_n: int, seed: int) -> str:
    return (
        "## Mentions (ingest)\n\n"
        f"`python -m bench.mentions {r['records']} --naive {naive_n} --seed {seed}` "
        f"(synthetic records from bench/generate.py, authority of {r['entities']} entities; "
        "2-core shared machine, other helpers' jobs running).\n\n"
        "| measure | value |\n|---|---|\n"
        f"| records / body text | {r['records']:,} / {r['mb']:.0f} MB |\n"
        f"| mentions found | {r['mentions']:,} |\n"
        f"| matcher compile (once) | {r['compile_s']:.2f} s |\n"
        f"| find_mentions total | {r['find_s']:.1f} s ({r['find_mb_s']:.1f} MB/s) |\n"
        f"| peer: `re.findall(r'\\w+')` tokenising the same text | {r['tokenise_s']:.1f} s "
        f"({r['tokenise_mb_s']:.1f} MB/s) |\n"
        f"| ratio find_mentions / tokenise | {r['ratio_tokenise']:.2f}x |\n"
        f"| peer: naive longest-first alternation regex (first {naive_n} bodies) | {r['naive_mb_s']:.2f} MB/s |\n"
        f"| trie matcher speed-up over the naive regex | {r['speedup_vs_naive']:.0f}x |\n"
    )


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("n", type=int, nargs="?", default=100_000)
    p.add_argument("--naive", type=int, default=200)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--write", action="store_true")
    a = p.parse_args(argv)
    text = report(run(a.n, a.naive, a.seed), a.naive, a.seed)
    print(text)
    if a.write:
        path = Path(__file__).with_name("RESULTS.md")
        with path.open("a", encoding="utf-8") as fh:
            fh.write(("\n" if path.exists() and path.stat().st_size else "") + text)


if __name__ == "__main__":
    main()
