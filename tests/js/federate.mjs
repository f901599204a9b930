// Federated SPARQL with Comunica: node federate.mjs QUERY TYPE@URL [TYPE@URL ...]
// Prints the bindings as a JSON array of {variable: value} objects (used by tests/test_sparql_federation.py).
import { QueryEngine } from "@comunica/query-sparql";

const [query, ...sources] = process.argv.slice(2);
const engine = new QueryEngine();
const srcs = sources.map((s) => {
  const at = s.indexOf("@");
  return { type: s.slice(0, at), value: s.slice(at + 1) };
});
const stream = await engine.queryBindings(query, { sources: srcs, lenient: false });
const rows = await stream.toArray();
console.log(JSON.stringify(rows.map((b) => Object.fromEntries([...b].map(([k, v]) => [k.value, v.value])))));
