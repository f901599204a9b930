"""Reconciler precision and recall on the labelled set, replayed through the local fake Wikidata.

    python bench/reconcile_bench.py [--repeat 5] [--json]   # cold/warm timings: median of --repeat pairs

The labelled set (tests/fixtures/reconcile/labelled.yaml) holds names from the seeds and the CSV
sample with their dated uses, the evidenced QIDs (data/sources/authority/wikidata-evidence.csv) and
known non-matches (decoys). Every entry starts without a QID, so the reconciler must find each link.

Measured, in one run: precision and recall of auto-accepted links (goal: precision 1.0, recall >= 0.9
of the evidenced QIDs), top-candidate recall (what a reviewer sees first), for the Action API back end,
the W3C Reconciliation Service back end, and the API under injected faults (maxlag, 429, 500, malformed
JSON, scattered so retries recover, then a burst that exhausts them); and the cost of a cold run against its peer, the warm rerun from the on-disk cache.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))

from lod.authority import Authority, Entity  # noqa: E402
from lod.reconcile.cache import Cache  # noqa: E402
from lod.reconcile.client import Policy, WikidataClient  # noqa: E402
from lod.reconcile.context import Use  # noqa: E402
from lod.reconcile.review import ReviewFile  # noqa: E402
from lod.reconcile.run import reconcile  # noqa: E402
from lod.reconcile.search import ApiSearch  # noqa: E402
from lod.reconcile.service import ServiceSearch  # noqa: E402

LABELLED = ROOT / "tests" / "fixtures" / "reconcile" / "labelled.yaml"


def load_labelled(path: Path = LABELLED) -> tuple[Authority, dict[str, list[Use]], dict[str, Any]]:
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    ents, uses, truth = {}, {}, {}
    for item in doc["entries"]:
        ents[item["id"]] = Entity(id=item["id"], label=item["label"], kind=item["kind"],
                                  variants=list(item.get("variants", [])), birth=str(item.get("birth", "")),
                                  death=str(item.get("death", "")))
        uses[item["id"]] = [Use(u["record"], u["role"], str(u["date"])) for u in item.get("uses", [])]
        truth[item["id"]] = {"expect": item.get("expect"), "not": set(item.get("not", []))}
    return Authority(ents), uses, truth


def run_once(api: str, sparql: str, cache_dir: Path, *, service: str = "", faults: Any = None) -> dict[str, Any]:
    authority, uses, truth = load_labelled()
    client = WikidataClient(api, sparql=sparql, contact="bench@example.org", cache=Cache(cache_dir),
                            policy=Policy(backoff=0.001, max_sleep=1.0, retries=4), sleep=lambda s: None)
    searcher = ServiceSearch(client, service) if service else ApiSearch(client)
    if faults:
        faults()
    review = ReviewFile(cache_dir / "review.yaml", {"version": 1, "entries": {}})
    t0 = time.perf_counter()
    outcomes = reconcile(authority, review, searcher, client, uses)
    seconds = time.perf_counter() - t0
    return score_run(outcomes, truth) | {"seconds": seconds, "requests": client.stats.requests,
                                         "retries": client.stats.retries}


def score_run(outcomes: list[Any], truth: dict[str, Any]) -> dict[str, Any]:
    accepted = {o.id: o.accepted for o in outcomes if o.accepted}
    evidenced = {i for i, t in truth.items() if t["expect"]}
    correct = {i for i, q in accepted.items() if truth[i]["expect"] == q}
    wrong = sorted(f"{i}={q}" for i, q in accepted.items() if truth[i]["expect"] != q)
    top = {}
    for o in outcomes:
        live = [c for c in o.candidates if not c.excluded]
        top[o.id] = live[0].qid if live else None
    top_ok = {i for i in evidenced if top.get(i) == truth[i]["expect"]}
    decoys_on_top = sorted(f"{i}={top[i]}" for i in truth if top.get(i) in truth[i]["not"])
    return {
        "entries": len(truth), "evidenced": len(evidenced), "accepted": len(accepted),
        "correct": len(correct), "wrong": wrong,
        "precision": len(correct) / len(accepted) if accepted else 1.0,
        "recall": len(correct & evidenced) / len(evidenced) if evidenced else 1.0,
        "top1_recall": len(top_ok) / len(evidenced) if evidenced else 1.0,
        "missed": sorted(evidenced - correct), "decoys_on_top": decoys_on_top,
        "statuses": {s: sum(1 for o in outcomes if o.status == s) for s in sorted({o.status for o in outcomes})},
    }


def _median(runs: list[dict[str, Any]]) -> dict[str, Any]:
    times = sorted(r["seconds"] for r in runs)
    return {**runs[0], "seconds": times[len(times) // 2], "runs": len(runs)}


def evaluate(repeat: int = 1) -> dict[str, Any]:
    from wikidata_fake import FakeServer

    srv = FakeServer()
    fake = srv.fake
    fake.retry_after = "0"
    results: dict[str, Any] = {}
    try:
        with tempfile.TemporaryDirectory() as tmp:
            base = Path(tmp)
            colds, warms = [], []
            for i in range(repeat):             # timing: median of cold/warm pairs, fresh cache each pair
                colds.append(run_once(fake.api, fake.sparql, base / f"api{i}"))
                warms.append(run_once(fake.api, fake.sparql, base / f"api{i}"))
            results["api (cold cache)"] = _median(colds)
            results["api (warm rerun)"] = _median(warms)
            results["service (cold cache)"] = run_once(fake.api, fake.sparql, base / "service",
                                                       service=fake.service)

            def scattered() -> None:       # each fault hits a different request; retries recover
                for kind, n, where in (("maxlag", 2, "Mao+Zedong"), ("429", 2, "search=Beijing"),
                                       ("500", 2, "action=wbgetentities"), ("malformed", 1, "Shanghai"),
                                       ("503", 1, "/sparql"), ("maxlag", 1, "Karl+Marx")):
                    fake.plan(kind, times=n, match=where)
            results["api, faults recovered"] = run_once(fake.api, fake.sparql, base / "faults", faults=scattered)

            def burst() -> None:           # more maxlag errors in a row than retries: the search gives up
                fake.plan("maxlag", times=5, match="Liu+Shaoqi")
            results["api, fault burst"] = run_once(fake.api, fake.sparql, base / "burst", faults=burst)
    finally:
        srv.close()
    return results


def main() -> None:
    repeat = int(sys.argv[sys.argv.index("--repeat") + 1]) if "--repeat" in sys.argv else 5
    results = evaluate(repeat)
    if "--json" in sys.argv:
        print(json.dumps(results, indent=2, default=sorted))
        return
    print(f"{'run':24} {'precision':>9} {'recall':>7} {'top-1':>6} {'accepted':>8} {'requests':>8} "
          f"{'retries':>7} {'seconds':>8}")
    for name, r in results.items():
        print(f"{name:24} {r['precision']:9.3f} {r['recall']:7.3f} {r['top1_recall']:6.3f} {r['accepted']:8d} "
              f"{r['requests']:8d} {r['retries']:7d} {r['seconds']:8.3f}")
    cold, warm = results["api (cold cache)"], results["api (warm rerun)"]
    print(f"\nlabelled entries {cold['entries']}, evidenced QIDs {cold['evidenced']}; "
          f"missed (sent to review): {', '.join(cold['missed']) or 'none'}; wrong: {cold['wrong'] or 'none'}; "
          f"decoys ranked first: {cold['decoys_on_top'] or 'none'}")
    print(f"statuses: {cold['statuses']}")
    print(f"warm rerun / cold run time: {warm['seconds'] / cold['seconds']:.3f} "
          f"({warm['requests']} requests vs {cold['requests']})")


if __name__ == "__main__":
    main()
