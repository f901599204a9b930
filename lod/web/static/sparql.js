// Query page for /sparql: example buttons, run the query with fetch, render a table.
// No inline script (CSP script-src 'self'); all text goes into the page via textContent.
"use strict";
(function () {
  const form = document.getElementById("query-form");
  const query = document.getElementById("query");
  const format = document.getElementById("format");
  const status = document.getElementById("status");
  const results = document.getElementById("results");
  const endpoint = form.getAttribute("action");
  const media = {
    json: "application/sparql-results+json", xml: "application/sparql-results+xml", csv: "text/csv",
    tsv: "text/tab-separated-values", turtle: "text/turtle", jsonld: "application/ld+json",
  };

  document.querySelectorAll("button.example").forEach(function (b) {
    b.addEventListener("click", function () {
      query.value = document.getElementById("example-" + b.dataset.example).value.trim();
      query.focus();
    });
  });

  function termText(t) {
    if (!t) return "";
    if (t.type === "literal" && t["xml:lang"]) return t.value + " @" + t["xml:lang"];
    return t.value;
  }

  function cell(t) {
    const td = document.createElement("td");
    if (t && t.type === "uri" && /^https?:\/\//i.test(t.value)) {
      const a = document.createElement("a");
      a.href = t.value;
      a.textContent = t.value;
      td.appendChild(a);
    } else {
      td.textContent = termText(t);
    }
    return td;
  }

  function table(data) {
    const t = document.createElement("table");
    const head = t.createTHead().insertRow();
    data.head.vars.forEach(function (v) {
      const th = document.createElement("th");
      th.textContent = "?" + v;
      head.appendChild(th);
    });
    const body = t.createTBody();
    data.results.bindings.forEach(function (row) {
      const tr = body.insertRow();
      data.head.vars.forEach(function (v) { tr.appendChild(cell(row[v])); });
    });
    return t;
  }

  form.addEventListener("submit", function (ev) {
    ev.preventDefault();
    const fmt = format.value;
    const started = performance.now();
    status.className = "";
    status.textContent = "Running…";
    results.replaceChildren();
    fetch(endpoint, {
      method: "POST",
      headers: { "Content-Type": "application/sparql-query", "Accept": media[fmt] },
      body: query.value,
    }).then(function (resp) {
      return resp.text().then(function (text) { return { resp: resp, text: text }; });
    }).then(function (r) {
      const ms = Math.round(performance.now() - started);
      if (!r.resp.ok) {
        status.className = "error";
        status.textContent = "HTTP " + r.resp.status + ": " + r.text;
        return;
      }
      const rows = r.resp.headers.get("X-SPARQL-Rows");
      status.textContent = (rows !== null ? rows + " result(s)" : "Done") + " in " + ms + " ms";
      if (r.resp.headers.get("X-SPARQL-Truncated") === "true") {
        const p = document.createElement("p");
        p.className = "note";
        p.textContent = "Truncated: only the first " + r.resp.headers.get("X-SPARQL-Max-Rows") +
          " rows are shown. Add LIMIT/OFFSET to page through the rest.";
        results.appendChild(p);
      }
      const ctype = r.resp.headers.get("Content-Type") || "";
      if (ctype.indexOf("application/sparql-results+json") === 0) {
        const data = JSON.parse(r.text);
        if (typeof data.boolean === "boolean") {
          const p = document.createElement("p");
          p.textContent = "ASK: " + data.boolean;
          results.appendChild(p);
        } else {
          results.appendChild(table(data));
        }
      } else {
        const pre = document.createElement("pre");
        pre.className = "raw";
        pre.textContent = r.text;
        results.appendChild(pre);
      }
    }).catch(function (err) {
      status.className = "error";
      status.textContent = "Request failed: " + err;
    });
  });
})();
