import { strict as assert } from 'node:assert';
import fs from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { startStack, type Stack } from '../support/stack.js';

const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD'];

/** `METHOD /path` pairs a text names (`GET /v1/jobs/{id}`, or several methods `HEAD|PATCH /v1/uploads/{id}`), parameters as `{}`. */
function routesIn(markdown: string): Set<string> {
  const routes = new Set<string>();
  for (const m of markdown.matchAll(
    /`((?:GET|POST|PUT|PATCH|DELETE|HEAD)(?:\|(?:GET|POST|PUT|PATCH|DELETE|HEAD))*) (\/[^`\s?]*)/g,
  )) {
    for (const method of m[1]!.split('|')) routes.add(`${method} ${m[2]!.replace(/\{[^}]+\}/g, '{}')}`);
  }
  return routes;
}

/** docs/api.md against the OpenAPI document a real API serves: every operation is in the guide, with a curl example. */
describe('docs/api.md against the OpenAPI document', () => {
  let stack: Stack;
  let spec: { paths: Record<string, Record<string, unknown>> };

  before(async () => {
    stack = await startStack({ name: 'api-docs' });
    const res = await fetch(`${stack.api.url}/openapi.json`);
    assert.equal(res.status, 200);
    spec = (await res.json()) as typeof spec;
  });
  after(async () => {
    await stack?.stop();
  });

  it('documents every route the API serves, and no route it does not', () => {
    const served = new Set<string>();
    for (const [p, operations] of Object.entries(spec.paths)) {
      for (const method of Object.keys(operations)) {
        if (METHODS.includes(method.toUpperCase()))
          served.add(`${method.toUpperCase()} ${p.replace(/\{[^}]+\}/g, '{}')}`);
      }
    }
    assert.ok(served.size > 15, `only ${served.size} operations in /openapi.json`);
    const doc = fs.readFileSync('docs/api.md', 'utf8');
    const documented = routesIn(doc);
    const missing = [...served].filter((r) => !documented.has(r));
    assert.deepEqual(missing, [], 'routes in /openapi.json that docs/api.md does not document');
    // Routes the guide names beyond the OpenAPI document: the OpenAPI UI and the panel's own results route.
    const extra = [...documented].filter((r) => !served.has(r));
    assert.deepEqual(extra.sort(), ['GET /admin/jobs/{}/result', 'GET /docs', 'GET /openapi.json']);
    // Every path has a curl example: the path with its parameters as variables or values (a tus upload's path
    // is the Location the API answered with, `$loc`).
    const curls = doc.split('\n').filter((l) => /\bcurl /.test(l));
    for (const route of served) {
      const path = route.split(' ')[1]!;
      const pattern =
        path === '/v1/uploads/{}'
          ? /\$API\$loc/
          : new RegExp(
              `\\$API${path.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\\\{\\\}|\{\}/g, '[^/\\s"?]+')}(?=[\\s"?\`]|$)`,
            );
      assert.ok(
        curls.some((l) => pattern.test(l)),
        `no curl example for ${route} (${String(pattern)})`,
      );
    }
  });
});
