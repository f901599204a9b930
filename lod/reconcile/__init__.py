"""Reconciling authority entries with Wikidata (docs/reconcile.md).

A wrong QID is worse than none: candidates are searched and scored with their evidence,
written to a review file, and only reviewed links (or a documented, narrow auto-accept rule)
reach the authority file, where the build turns them into ``owl:sameAs``.

Modules: ``client`` (polite HTTP client with retries), ``cache`` (on-disk answers),
``names`` (script-aware name handling), ``wdjson`` (reading Wikidata entity JSON),
``search`` (candidate search: Action API or a W3C Reconciliation Service), ``score``,
``context`` (document dates and roles per entity), ``review`` (review file and decisions),
``verify``, ``enrich`` and ``run`` (the orchestration the CLI and the benchmark call).
"""

WIKIDATA_ENTITY = "http://www.wikidata.org/entity/"
