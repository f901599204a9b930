"""The SPARQL 1.1 endpoint's core, without Flask (docs/sparql.md).

protocol (request parsing) -> safety (static checks) -> federation (SERVICE by our code) ->
executor/worker (sandboxed worker processes, time limits, queue) -> results (formats, row cap);
endpoint ties them together; service_description, querylog, examples serve the web layer.
"""
