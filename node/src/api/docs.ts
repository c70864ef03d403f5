import { createHash } from "node:crypto";

/**
 * /docs: the OpenAPI document as one readable HTML page, rendered on the
 * server (no script, no CDN), served with a CSP that allows nothing but its
 * own inline style (by hash).
 */

const STYLE = `body{font:15px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#1d1d1f}
h1{font-size:1.6rem}h2{font-size:1.15rem;margin-top:2rem;border-top:1px solid #ddd;padding-top:1rem}
code{background:#f3f3f3;padding:0 .25rem;border-radius:3px}.m{font-weight:700;text-transform:uppercase;margin-right:.5rem}
table{border-collapse:collapse;margin:.5rem 0}td,th{border:1px solid #ddd;padding:.2rem .5rem;text-align:left;vertical-align:top}
.auth{color:#8a4b00}`;

export const DOCS_CSP = `default-src 'none'; style-src 'sha256-${createHash("sha256").update(STYLE).digest("base64")}'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`;

function esc(v: unknown): string {
  const s = typeof v === "string" ? v : v === undefined ? "" : JSON.stringify(v);
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0).toString()};`);
}

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj => (typeof v === "object" && v !== null ? (v as Obj) : {});

function schemaText(schema: unknown): string {
  const s = obj(schema);
  if (typeof s.$ref === "string") return s.$ref.replace("#/components/schemas/", "");
  if (typeof s.type === "string") return s.type;
  return "";
}

export function renderDocs(openapi: Obj): string {
  const info = obj(openapi.info);
  const parts: string[] = [
    `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">`,
    `<title>${esc(info.title)}</title><style>${STYLE}</style></head><body>`,
    `<h1>${esc(info.title)} <small>${esc(info.version)}</small></h1><p>${esc(info.description)}</p>`,
    `<p>Machine-readable: <a href="/openapi.json">/openapi.json</a> (OpenAPI 3.1).</p>`,
  ];
  for (const [path, item] of Object.entries(obj(openapi.paths))) {
    for (const [method, opValue] of Object.entries(obj(item))) {
      const op = obj(opValue);
      const security = Array.isArray(op.security) && op.security.length > 0 ? op.security.map((s) => Object.keys(obj(s)).join(" ")).join(" or ") : "";
      parts.push(`<h2 id="${esc(op.operationId)}"><span class="m">${esc(method)}</span><code>${esc(path)}</code></h2><p>${esc(op.summary)}</p>`);
      if (typeof op.description === "string") parts.push(`<p>${esc(op.description)}</p>`);
      if (security !== "") parts.push(`<p class="auth">Needs: ${esc(security)}</p>`);
      const params = Array.isArray(op.parameters) ? op.parameters.map(obj) : [];
      if (params.length > 0) {
        parts.push("<table><tr><th>parameter</th><th>in</th><th>type</th><th>description</th></tr>");
        for (const p of params) parts.push(`<tr><td><code>${esc(p.name)}</code>${p.required === true ? " *" : ""}</td><td>${esc(p.in)}</td><td>${esc(schemaText(p.schema))}</td><td>${esc(p.description)}</td></tr>`);
        parts.push("</table>");
      }
      const body = obj(obj(obj(op.requestBody).content)["application/json"]).schema;
      if (body !== undefined) parts.push(`<p>Body (application/json): <code>${esc(schemaText(body))}</code></p>`);
      parts.push("<table><tr><th>status</th><th>meaning</th></tr>");
      for (const [status, r] of Object.entries(obj(op.responses))) parts.push(`<tr><td>${esc(status)}</td><td>${esc(obj(r).description)}</td></tr>`);
      parts.push("</table>");
    }
  }
  const schemas = obj(obj(openapi.components).schemas);
  parts.push(`<h2>Schemas</h2>`);
  for (const [name, schema] of Object.entries(schemas)) {
    parts.push(`<h3 id="schema-${esc(name)}">${esc(name)}</h3><pre><code>${esc(JSON.stringify(schema, null, 2))}</code></pre>`);
  }
  parts.push("</body></html>");
  return parts.join("\n");
}
