"""`lod reconcile`: link authority entries to Wikidata with review, cache and a polite client.

Exit codes (docs/reconcile.md): 0 done (entries may still await review); 1 some work failed or is
incomplete (request failures, offline cache misses, items flagged by --verify), all reported;
2 usage or system error (no contact while online, bad ID=Q… decision, unknown entry id,
unreadable authority or review file, a reconciliation service that is not Wikidata's).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from lod.commands.options import resolve, settings_options


def _fail(message: str) -> None:
    click.echo(f"error: {message}", err=True)
    sys.exit(2)


@click.command("reconcile")
@settings_options("data", "contact", "wikidata_api", "wikidata_sparql", "cache_dir", "offline",
                  "wikidata_timeout", "wikidata_retries", "wikidata_backoff")
@click.option("--service", "reconcile_service", default=None, metavar="URL",
              help="W3C Reconciliation Service endpoint to search with instead of wbsearchentities "
                   "[env LOD_RECONCILE_SERVICE].")
@click.option("--accept", "accepts", multiple=True, metavar="ID=Q…",
              help="Accept a QID for an authority entry (repeatable); the next build publishes owl:sameAs.")
@click.option("--reject", "rejects", multiple=True, metavar="ID=Q…",
              help="Reject a QID for an authority entry (repeatable); it is never auto-accepted again.")
@click.option("--reviewer", default=None, help="Who decides (default: $USER).")
@click.option("--note", default="", help="A note stored with --accept/--reject decisions.")
@click.option("--verify", is_flag=True, help="Re-check the QIDs already in the authority (redirects, deletions, "
                                             "mismatches).")
@click.option("--enrich/--no-enrich", "do_enrich", default=None,
              help="Write <data>/wikidata/enrichment.ttl (default: on for online reconcile/verify runs).")
@click.option("--threshold", type=float, default=None, help="Auto-accept score threshold (default 0.90, "
                                                            "minimum 0.80).")
@click.option("--margin", type=float, default=None, help="Auto-accept margin over the runner-up (default 0.20, "
                                                         "minimum 0.10).")
@click.option("--json", "as_json", is_flag=True, help="Print the run report as JSON.")
def reconcile_cmd(accepts: tuple[str, ...], rejects: tuple[str, ...], reviewer: str | None, note: str,
                  verify: bool, do_enrich: bool | None, threshold: float | None, margin: float | None,
                  as_json: bool, **values: object) -> None:
    """Find and review Wikidata links for people, places and organisations.

    Without --accept/--reject/--verify: search candidates for every entry without a published QID,
    score them with evidence, write <data>/reconcile/review.yaml, auto-accept only clear winners.
    See docs/reconcile.md.

    \b
    Exit codes: 0 done (entries may await review); 1 some work failed or is
    incomplete (failed requests, offline cache misses, items flagged by --verify);
    2 usage or system error (no contact online, bad ID=Q…, unreadable files).
    """
    from lod.authority import Authority
    from lod.reconcile import context, score
    from lod.reconcile.cache import Cache
    from lod.reconcile.client import ContactRequired, NotCached, Policy, ReconcileError, WikidataClient, now
    from lod.reconcile.review import ReviewError, ReviewFile, parse_decision, review_path, reviewer_name
    from lod.reconcile.run import Report, decide_only, reconcile, run_verify, write_enrichment
    from lod.reconcile.search import ApiSearch
    from lod.reconcile.service import ServiceError, ServiceSearch
    from lod.records import RecordError

    settings = resolve(**values)
    threshold = score.THRESHOLD if threshold is None else threshold
    margin = score.MARGIN if margin is None else margin
    if threshold < score.MIN_THRESHOLD or threshold > 1.0:
        raise click.UsageError(f"--threshold must be between {score.MIN_THRESHOLD} and 1.0")
    if margin < 0.1 or margin > 1.0:
        raise click.UsageError("--margin must be between 0.1 and 1.0")
    data = Path(settings.data)
    auth_path = data / "authority.yaml"
    if not auth_path.is_file():
        _fail(f"{auth_path}: no authority file (run `lod import` first, or pass --data DIR)")
    try:
        authority = Authority.load(auth_path)
        review = ReviewFile.load(review_path(data))
        decisions_a = [parse_decision(a, "--accept") for a in accepts]
        decisions_r = [parse_decision(r, "--reject") for r in rejects]
    except (RecordError, ReviewError) as exc:
        _fail(str(exc))
    deciding = bool(decisions_a or decisions_r)
    reconciling = not deciding and not verify
    enrich_on = do_enrich if do_enrich is not None else (not settings.offline and not deciding)
    online_needed = (reconciling or verify or enrich_on) and not settings.offline
    before = {i: e.to_dict() for i, e in authority.entities.items()}
    at = now()
    report = Report()
    try:
        policy = Policy(read_timeout=settings.wikidata_timeout, retries=max(0, settings.wikidata_retries),
                        backoff=max(0.0, settings.wikidata_backoff),
                        deadline=max(60.0, 2 * settings.wikidata_timeout))
        client = WikidataClient(settings.wikidata_api, sparql=settings.wikidata_sparql, contact=settings.contact,
                                cache=Cache(settings.cache_dir), offline=settings.offline or not online_needed,
                                policy=policy)
    except ContactRequired as exc:
        _fail(str(exc))
    try:
        if deciding:
            report.decisions = decide_only(authority, review, decisions_a, decisions_r,
                                           by=reviewer_name(reviewer), note=note, at=at)
    except ReviewError as exc:
        _fail(str(exc))
    if not authority.entities:
        report.warnings.append(f"{auth_path}: the authority has no entries: nothing to reconcile")
    if verify:
        report.checked = run_verify(authority, review, client, at)
    if reconciling and authority.entities:
        uses, warnings = context.load_uses(data, authority)
        report.warnings.extend(warnings)
        searcher = ApiSearch(client)
        if settings.reconcile_service:
            searcher = ServiceSearch(client, settings.reconcile_service)
            try:
                searcher.check_manifest()
            except ServiceError as exc:
                _fail(str(exc))
            except NotCached as exc:
                report.warnings.append(f"service manifest not checked: {exc}")
            except ReconcileError as exc:
                _fail(f"reconciliation service unusable: {exc}")
        report.outcomes = reconcile(authority, review, searcher, client, uses, threshold=threshold,
                                    margin=margin, at=at)
    if enrich_on and authority.entities:
        report.enriched = write_enrichment(authority, client, data, at)
    report.requests = client.stats.requests
    report.cache_hits = client.cache.hits if client.cache else 0
    changed = {i: e.to_dict() for i, e in authority.entities.items()} != before
    if changed:
        authority.save(auth_path)
    if deciding or verify or reconciling:
        review.data["updated_at"] = at
        review.save()
    _print(report, as_json=as_json, events=client.stats.events, auth_changed=changed,
           review=str(review.path))
    sys.exit(report.exit_code)


def _print(report: object, *, as_json: bool, events: list[str], auth_changed: bool, review: str) -> None:
    from lod.reconcile.run import Report

    assert isinstance(report, Report)
    if as_json:
        click.echo(json.dumps({
            "outcomes": [{"id": o.id, "status": o.status, "reason": o.reason, "accepted": o.accepted,
                          "notes": o.notes, "failures": o.failures, "missing": o.missing,
                          "candidates": [c.to_dict() for c in o.candidates[:5]]} for o in report.outcomes],
            "verify": [vars(c) for c in report.checked], "decisions": report.decisions,
            "enrichment": None if not report.enriched else {
                "path": str(report.enriched.path), "items": report.enriched.items,
                "failures": report.enriched.failures, "missing": report.enriched.missing},
            "warnings": report.warnings, "failures": report.failures, "missing": report.missing,
            "requests": report.requests, "cache_hits": report.cache_hits, "exit_code": report.exit_code,
        }, ensure_ascii=False, indent=2))
        return
    for w in report.warnings:
        click.echo(f"warning: {w}", err=True)
    for d in report.decisions:
        click.echo(f"decision  {d}")
    for c in report.checked:
        click.echo(f"verify    {c.line()}")
    for o in report.outcomes:
        click.echo(o.line())
        for n in o.notes:
            click.echo(f"    note: {n}")
    if report.enriched:
        e = report.enriched
        click.echo(f"enrichment: {len(e.items)} items, {e.triples} triples -> {e.path}")
        for s in e.skipped:
            click.echo(f"    skipped: {s}")
    for ev in events:
        click.echo(f"retry: {ev}", err=True)
    for f in report.failures:
        click.echo(f"FAILED: {f}", err=True)
    for m in report.missing:
        click.echo(f"MISSING (offline, not in cache): {m}", err=True)
    counts: dict[str, int] = {}
    for o in report.outcomes:
        counts[o.status] = counts.get(o.status, 0) + 1
    summary = ", ".join(f"{v} {k}" for k, v in sorted(counts.items())) or "no entries reconciled"
    click.echo(f"summary: {summary}; {len(report.flagged)} flagged; {len(report.failures)} failed; "
               f"{len(report.missing)} missing from cache; {report.requests} requests, "
               f"{report.cache_hits} cache hits; review file {review}"
               + ("; authority updated" if auth_changed else ""))
