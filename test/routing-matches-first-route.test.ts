/** Route matching: first match wins, host exact/wildcard, path prefix, methods, headers; and the shadowing relation. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileRouteTable, covers } from '../src/routing/index.ts';
import type { Listener } from '../src/config/index.ts';

const listener = {
  name: 'public', address: '0.0.0.0:80', protocol: 'http',
  routes: [
    { name: 'beta', match: { host: 'api.example.com', headers: { 'X-Beta': '1' } }, pool: 'api-beta' },
    { name: 'api', match: { host: 'api.example.com', pathPrefix: '/v1/', methods: ['GET', 'POST'] }, pool: 'api' },
    { name: 'tenants', match: { host: '*.example.com' }, pool: 'tenants' },
    { name: 'static', match: { pathPrefix: '/static/' }, pool: 'static' },
    { name: 'site', split: [{ pool: 'web', weight: 3 }, { pool: 'next', weight: 1 }] },
  ],
} as unknown as Listener;

const table = compileRouteTable(listener);
const route = (method: string, host: string, path: string, headers: Record<string, string> = {}) => table.match({ method, host, path, headers })?.name;

test('requests go to the first route that matches, table-driven', () => {
  const cases: [string, string, string, Record<string, string>, string | undefined][] = [
    ['GET', 'api.example.com', '/v1/users', {}, 'api'],
    ['GET', 'API.Example.com:8080', '/v1/users?x=1', {}, 'api'],
    ['DELETE', 'api.example.com', '/v1/users', {}, 'tenants'],
    ['GET', 'api.example.com', '/v1/users', { 'x-beta': '1' }, 'beta'],
    ['GET', 'api.example.com', '/v1/users', { 'x-beta': '2' }, 'api'],
    ['GET', 'shop.example.com', '/', {}, 'tenants'],
    ['GET', 'deep.shop.example.com', '/', {}, 'tenants'],
    ['GET', 'example.com', '/static/a.css', {}, 'static'],
    ['GET', 'other.org', '/', {}, 'site'],
  ];
  for (const [m, h, p, hd, want] of cases) assert.equal(route(m, h, p, hd), want, `${m} ${h}${p}`);
});

test('a weighted split picks pools smoothly in proportion (3:1 → 3 and 1 over 4)', () => {
  const site = table.routes.find((r) => r.name === 'site')!;
  const picks = Array.from({ length: 4 }, () => site.targets[site.pickTarget()].pool);
  assert.deepEqual(picks.sort(), ['next', 'web', 'web', 'web']);
});

test('covers: an earlier route that matches a superset shadows the later one', () => {
  const cases: [object | undefined, object | undefined, boolean][] = [
    [undefined, { pathPrefix: '/api/' }, true],
    [{ pathPrefix: '/' }, { pathPrefix: '/api/' }, true],
    [{ pathPrefix: '/api/' }, { pathPrefix: '/' }, false],
    [{ host: '*.example.com' }, { host: 'a.example.com', pathPrefix: '/x' }, true],
    [{ host: '*.example.com' }, { host: 'example.com' }, false],
    [{ host: 'a.example.com' }, { host: 'b.example.com' }, false],
    [{ methods: ['GET', 'POST'] }, { methods: ['GET'] }, true],
    [{ methods: ['GET'] }, { methods: ['GET', 'POST'] }, false],
    [{ methods: ['GET'] }, {}, false],
    [{ headers: { 'x-a': '1' } }, { headers: { 'X-A': '1', 'x-b': '2' } }, true],
    [{ headers: { 'x-a': '1' } }, {}, false],
  ];
  for (const [a, b, want] of cases) assert.equal(covers(a as never, b as never), want, `${JSON.stringify(a)} covers ${JSON.stringify(b)}`);
});
