// The client takes what the served OpenAPI document (GET /_mock/openapi.json)
// documents, name for name: for each row of the operations table, every
// path parameter, query parameter and top-level property of the JSON request
// body ($ref, allOf, oneOf and anyOf resolved) of its operation is
//
//  1. declared by the row's method in index.d.ts: the name of one of its
//     parameters (an id, a sink's name, testWebhook's type), or a named
//     property of one of their types (interfaces with their bases, type
//     aliases, unions, intersections, inline object types, Omit<>); an index
//     signature or a Record<> names nothing, so it does not count; and
//  2. passed through by index.js unchanged: the method is called, against a
//     stub fetch, as its declaration (each overload) says, with every name it
//     declares set, and each value must arrive at the documented place (the
//     path, the query string, the JSON body) as it was given.
//
// A failure names the operation and the parameter.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';

import { Client, OPERATIONS, operationKey } from 'bullseye-mock';
import { useMock } from 'bullseye-mock/testing';

const mock = useMock();

// ---- The document's names ----

function deref(doc, node) {
  while (node && node.$ref) node = node.$ref.replace(/^#\//, '').split('/').reduce((o, k) => o[k], doc);
  return node ?? {};
}

function schemaProperties(doc, schema, out = new Set()) {
  schema = deref(doc, schema);
  for (const p of Object.keys(schema.properties ?? {})) out.add(p);
  for (const sub of [...(schema.allOf ?? []), ...(schema.oneOf ?? []), ...(schema.anyOf ?? [])]) schemaProperties(doc, sub, out);
  return out;
}

/** [{in: "path" | "query" | "body", name}] of an operation. */
function documentedNames(doc, path, method) {
  const item = doc.paths[path];
  const op = item[method.toLowerCase()];
  const names = [];
  for (const p of [...(item.parameters ?? []), ...(op.parameters ?? [])].map((p) => deref(doc, p))) {
    if (p.in === 'path' || p.in === 'query') names.push({ in: p.in, name: p.name });
  }
  const json = op.requestBody && deref(doc, op.requestBody).content?.['application/json'];
  if (json) for (const name of schemaProperties(doc, json.schema)) names.push({ in: 'body', name });
  return names;
}

// ---- The declarations' names (index.d.ts) ----

const DTS = readFileSync(new URL('../index.d.ts', import.meta.url), 'utf8')
  .replace(/\/\*[\s\S]*?\*\//g, '')
  .replace(/\/\/[^\n]*/g, '');

// The index of the bracket closing the one at s[i] (any of ({[<; "=>" is no bracket).
function closing(s, i) {
  let depth = 0;
  for (let j = i; j < s.length; j++) {
    if ('({[<'.includes(s[j])) depth++;
    else if (')}]'.includes(s[j]) || (s[j] === '>' && s[j - 1] !== '=')) depth--;
    if (depth === 0) return j;
  }
  throw new Error(`index.d.ts: unbalanced at ${s.slice(i, i + 40)}`);
}

// s split at the separators outside brackets.
function splitTop(s, seps) {
  const parts = [];
  let start = 0;
  for (let j = 0; j < s.length; j++) {
    if ('({[<'.includes(s[j])) j = closing(s, j);
    else if (seps.includes(s[j])) {
      parts.push(s.slice(start, j));
      start = j + 1;
    }
  }
  parts.push(s.slice(start));
  return parts.map((p) => p.trim()).filter(Boolean);
}

// The body of `export <kind> <name> ... {` (an interface or a class) and what precedes the brace.
function declaration(kind, name) {
  const m = new RegExp(`export (?:declare )?${kind} ${name}\\b([^{]*)\\{`).exec(DTS);
  if (!m) return undefined;
  const open = m.index + m[0].length - 1;
  return { head: m[1], body: DTS.slice(open + 1, closing(DTS, open)) };
}

function members(body) {
  const names = new Set();
  for (const member of splitTop(body, ';,\n')) {
    const m = /^(?:readonly\s+)?['"]?([A-Za-z_$][\w$]*)['"]?\??\s*:/.exec(member);
    if (m) names.add(m[1]);
  }
  return names;
}

/** The property names a type expression of index.d.ts names. */
function typeNames(type) {
  type = type.trim();
  const parts = splitTop(type, '|&');
  if (parts.length > 1) return new Set(parts.flatMap((p) => [...typeNames(p)]));
  if (type.startsWith('(') && closing(type, 0) === type.length - 1) return typeNames(type.slice(1, -1));
  if (type.startsWith('{')) return members(type.slice(1, -1));
  const generic = /^(Omit|Partial|Required|Readonly)<([\s\S]*)>$/.exec(type);
  if (generic) {
    const [base, omitted = ''] = splitTop(generic[2], ',');
    const drop = new Set([...omitted.matchAll(/'([^']+)'/g)].map((m) => m[1]));
    return new Set([...typeNames(base)].filter((n) => !drop.has(n)));
  }
  if (!/^\w+$/.test(type)) return new Set(); // Record<>, arrays, literals
  const iface = declaration('interface', type);
  if (iface) {
    const bases = /extends([^{]*)/.exec(iface.head)?.[1] ?? '';
    return new Set([...members(iface.body), ...splitTop(bases, ',').flatMap((b) => [...typeNames(b)])]);
  }
  const alias = new RegExp(`export type ${type}\\s*=`).exec(DTS);
  if (alias) return typeNames(splitTop(DTS.slice(alias.index + alias[0].length), ';')[0]);
  return new Set(); // string, number, EventType's literals, ...
}

/** The overloads of a row's method: [[{name, type}]], one list of parameters each. */
function signatures(row) {
  const [cls, method] = row.startsWith('partner.') ? ['PartnerClient', row.slice(8)] : ['Client', row];
  const body = declaration('class', cls)?.body ?? '';
  const out = [];
  for (const member of splitTop(body, ';')) {
    const m = new RegExp(`^${method}\\s*\\(`).exec(member);
    if (!m) continue;
    const params = member.slice(m[0].length, closing(member, m[0].length - 1));
    out.push(
      splitTop(params, ',').map((p) => {
        const [, name, type] = /^(?:\.\.\.)?(\w+)\??\s*:\s*([\s\S]*)$/.exec(p);
        return { name, type };
      }),
    );
  }
  return out;
}

// ---- The tests ----

const rows = () => OPERATIONS.map(([method, path, name]) => ({ method, path, name, key: operationKey(method, path) }));

test('every row has a declaration in index.d.ts', () => {
  const missing = rows().filter((r) => signatures(r.name).length === 0).map((r) => `${r.key}: ${r.name}`);
  assert.deepEqual(missing, [], `rows whose method index.d.ts does not declare: ${missing.join('; ')}`);
});

test("every documented parameter and body property is declared by its method's signature", async () => {
  const doc = await mock.client.openapi();
  const problems = [];
  for (const { method, path, name, key } of rows()) {
    const declared = new Set(signatures(name).flat().flatMap((p) => [p.name, ...typeNames(p.type)]));
    for (const d of documentedNames(doc, path, method)) {
      if (!declared.has(d.name)) problems.push(`${key}: ${d.in} ${JSON.stringify(d.name)} is not declared by client.${name} in index.d.ts`);
    }
  }
  assert.deepEqual(problems, [], `documented names the client does not declare:\n  ${problems.join('\n  ')}`);
});

const sample = (name) => `v-${name}`;

// A call of one overload with every documented name it declares set to its sample.
function callArgs(signature, documented) {
  const left = new Set(documented.map((d) => d.name));
  const carried = new Set();
  const take = (n) => (left.delete(n), carried.add(n), sample(n));
  const args = signature.map((p) => {
    if (left.has(p.name)) return take(p.name);
    const props = [...typeNames(p.type)].filter((n) => left.has(n));
    return props.length ? Object.fromEntries(props.map((n) => [n, take(n)])) : undefined;
  });
  return { args, carried };
}

test('every declared parameter and body property reaches the request unchanged', async () => {
  const doc = await mock.client.openapi();
  let sent;
  const fakeFetch = async (url, init) => {
    sent = { url: new URL(url), body: init.body };
    const body = { timedOut: false, delivery: {}, run: {}, requests: [], count: 0, received: true };
    return new Response(JSON.stringify(body), { status: 200, headers: { 'content-type': 'application/json' } });
  };
  const client = new Client({ baseUrl: 'http://mock.test', apiKey: 'k', fetch: fakeFetch });
  const problems = [];
  for (const { method, path, name, key } of rows()) {
    const documented = documentedNames(doc, path, method);
    if (documented.length === 0) continue;
    const owner = name.startsWith('partner.') ? client.partner : client;
    const fn = owner[name.replace(/^partner\./, '')];
    const pathRe = new RegExp(`^${path.replace(/[.]/g, '\\.').replace(/\{(\w+)\}/g, '(?<$1>[^/]+)')}$`);
    for (const signature of signatures(name)) {
      const { args, carried } = callArgs(signature, documented);
      sent = undefined;
      try {
        await fn.apply(owner, args);
      } catch (err) {
        problems.push(`${key}: client.${name}(${JSON.stringify(args)}) threw ${err.message}`);
        continue;
      }
      const params = pathRe.exec(sent.url.pathname)?.groups ?? {};
      let body;
      try {
        body = JSON.parse(sent.body);
      } catch {
        body = {};
      }
      for (const d of documented.filter((d) => carried.has(d.name))) {
        const got = {
          path: () => params[d.name] && decodeURIComponent(params[d.name]),
          query: () => sent.url.searchParams.get(d.name),
          body: () => body?.[d.name],
        }[d.in]();
        if (got !== sample(d.name)) {
          problems.push(`${key}: ${d.in} ${JSON.stringify(d.name)}: client.${name} was given ${JSON.stringify(sample(d.name))}, sent ${JSON.stringify(got ?? null)}`);
        }
      }
    }
  }
  assert.deepEqual(problems, [], `documented names the client does not pass through:\n  ${problems.join('\n  ')}`);
});
