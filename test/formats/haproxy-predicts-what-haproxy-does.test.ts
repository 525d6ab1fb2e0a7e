// Differential: for each construct without hashing, the real haproxy (Debian's 2.6) runs on
// loopback in front of Node backends that answer with their name; N sequential requests are
// sent, and evenkeel's predicted share of every server (of its pool) and of every pool (of the
// requests) must be within 0.03 of what haproxy did. This is the proof that the reader's
// semantics are HAProxy's.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readHaproxy } from '../../src/formats/index.ts';
import { analyzeLoaded } from '../../src/analysis/index.ts';
import type { SampleRequest } from '../../src/analysis/index.ts';
import { freePort, get, haveHaproxy, startBackends, startHaproxy } from './haproxy-harness.ts';

const TOLERANCE = 0.03;

interface Case {
  desc: string;
  /** pool → its server names (unique across pools). */
  pools: Record<string, string[]>;
  /** The frontend and backend sections; `$name` is replaced with that server's address. */
  body: string;
  /** Requests, sent round after round until N. */
  requests?: { path: string; host?: string; method?: string }[];
  n?: number;
}

const HEAD = `global
    maxconn 256
defaults
    mode http
    timeout connect 2s
    timeout client 5s
    timeout server 5s
`;

const cases: Case[] = [
  {
    desc: 'roundrobin with weights 3, 1 and 0',
    pools: { web: ['w1', 'w2', 'w3'] },
    body: `frontend public
    bind $bind
    default_backend web
backend web
    balance roundrobin
    server w1 $w1 weight 3
    server w2 $w2 weight 1
    server w3 $w3 weight 0
`,
  },
  {
    desc: 'static-rr with weights 2, 1, 1',
    pools: { web: ['w1', 'w2', 'w3'] },
    body: `frontend public
    bind $bind
    default_backend web
backend web
    balance static-rr
    server w1 $w1 weight 2
    server w2 $w2
    server w3 $w3 weight 1
`,
  },
  {
    desc: 'a disabled server gets nothing',
    pools: { web: ['w1', 'w2', 'w3'] },
    body: `frontend public
    bind $bind
    default_backend web
backend web
    server w1 $w1
    server w2 $w2 disabled
    server w3 $w3
`,
  },
  {
    desc: 'backups get nothing while a primary is up',
    pools: { web: ['w1', 'w2', 'b1'] },
    body: `frontend public
    bind $bind
    default_backend web
backend web
    server w1 $w1
    server w2 $w2
    server b1 $b1 backup
`,
  },
  {
    desc: 'primaries disabled, no allbackups: the first backup takes everything',
    pools: { web: ['w1', 'b1', 'b2'] },
    body: `frontend public
    bind $bind
    default_backend web
backend web
    server w1 $w1 disabled
    server b1 $b1 backup
    server b2 $b2 backup
`,
  },
  {
    desc: 'primaries disabled, option allbackups: backups share by weight',
    pools: { web: ['w1', 'b1', 'b2'] },
    body: `frontend public
    bind $bind
    default_backend web
backend web
    option allbackups
    server w1 $w1 disabled
    server b1 $b1 backup weight 3
    server b2 $b2 backup
`,
  },
  {
    desc: 'balance first without maxconn: all to the first server',
    pools: { web: ['w1', 'w2', 'w3'] },
    body: `frontend public
    bind $bind
    default_backend web
backend web
    balance first
    server w1 $w1
    server w2 $w2
    server w3 $w3
`,
  },
  {
    desc: 'balance first with maxconn, sequential requests: all to the first server',
    pools: { web: ['w1', 'w2'] },
    body: `frontend public
    bind $bind
    default_backend web
backend web
    balance first
    server w1 $w1 maxconn 10
    server w2 $w2 maxconn 10
`,
  },
  {
    desc: 'a listen section with bind is a listener and its pool',
    pools: { app: ['l1', 'l2'] },
    body: `listen app
    bind $bind
    server l1 $l1 weight 2
    server l2 $l2
`,
  },
  {
    desc: 'a named defaults section, from, and a default_backend inherited from it',
    pools: { web: ['w1', 'w2', 'w3'] },
    body: `defaults site
    mode http
    timeout connect 2s
    timeout client 5s
    timeout server 5s
    balance static-rr
    default_backend web
frontend public from site
    bind $bind
backend web from site
    server w1 $w1 weight 3
    server w2 $w2 weight 2
    server w3 $w3 weight 0
`,
  },
  {
    desc: 'use_backend by host and path ACLs, default_backend for the rest',
    pools: { api: ['a1', 'a2'], static: ['s1'], web: ['w1', 'w2'] },
    body: `frontend public
    bind $bind
    acl is_api hdr(host) -i api.example.com
    acl is_static path_beg /static/ /img/
    use_backend api if is_api
    use_backend static if is_static
    default_backend web
backend api
    server a1 $a1 weight 2
    server a2 $a2 weight 1
backend static
    server s1 $s1
backend web
    server w1 $w1
    server w2 $w2
`,
    requests: [
      { path: '/v1/users', host: 'api.example.com' },
      { path: '/static/app.js', host: 'example.com' },
      { path: '/img/logo.png', host: 'example.com' },
      { path: '/', host: 'example.com' },
      { path: '/about', host: 'example.com' },
      { path: '/static/x', host: 'api.example.com' },
    ],
  },
  {
    desc: 'negation, || and a method ACL',
    pools: { writes: ['x1', 'x2'], api: ['a1'], web: ['w1'] },
    body: `frontend public
    bind $bind
    acl is_api path_beg /api/
    acl is_write method POST PUT
    use_backend writes if is_api is_write || { path_beg /upload }
    use_backend api if is_api !is_write
    default_backend web
backend writes
    server x1 $x1
    server x2 $x2
backend api
    server a1 $a1
backend web
    server w1 $w1
`,
    requests: [
      { path: '/api/items', method: 'POST' },
      { path: '/api/items', method: 'GET' },
      { path: '/upload/file', method: 'GET' },
      { path: '/api/items/1', method: 'PUT' },
      { path: '/home', method: 'POST' },
    ],
  },
  {
    desc: 'hdr_dom, path_reg, an exact path and unless',
    pools: { shop: ['p1', 'p2'], v2: ['v1'], health: ['h1'], site: ['s1', 's2', 's3'] },
    body: `frontend public
    bind $bind
    acl shop_host hdr_dom(host) -i shop.example.com
    acl v2 path_reg ^/v2/
    acl is_health path /healthz
    acl is_get method GET HEAD
    use_backend health if is_health
    use_backend v2 if v2 is_get
    use_backend shop if shop_host
    use_backend site unless is_get
    default_backend site
backend shop
    server p1 $p1
    server p2 $p2 weight 3
backend v2
    server v1 $v1
backend health
    server h1 $h1
backend site
    balance static-rr
    server s1 $s1
    server s2 $s2 weight 2
    server s3 $s3 weight 0
`,
    requests: [
      { path: '/cart', host: 'shop.example.com' },
      { path: '/cart', host: 'eu.shop.example.com' },
      { path: '/v2/items', host: 'shop.example.com' },
      { path: '/v2/items', host: 'example.com', method: 'POST' },
      { path: '/healthz', host: 'example.com' },
      { path: '/', host: 'example.com' },
      { path: '/form', host: 'example.com', method: 'POST' },
      { path: '/about', host: 'example.com' },
    ],
    n: 400,
  },
  {
    // 2,000 requests: the measured share of a 25% coin has a standard error of 0.01.
    desc: 'a rand(100) canary split: 25% to the canary, the rest where the rules below send it',
    pools: { canary: ['c1'], web: ['w1', 'w2'] },
    body: `frontend public
    bind $bind
    use_backend canary if { rand(100) lt 25 }
    default_backend web
backend canary
    server c1 $c1
backend web
    server w1 $w1
    server w2 $w2
`,
    n: 2000,
  },
];

for (const c of cases) {
  test(`haproxy and evenkeel agree: ${c.desc}`, { skip: !haveHaproxy && 'haproxy is not installed' }, async () => {
    const names = Object.values(c.pools).flat();
    const backends = await startBackends(names);
    const port = await freePort();
    let cfg = HEAD + c.body.replace('$bind', `127.0.0.1:${port}`);
    for (const name of [...names].sort((a, b) => b.length - a.length)) cfg = cfg.replaceAll(`$${name}`, `127.0.0.1:${backends.ports[name]}`);
    const hp = await startHaproxy(cfg, port);
    const requests = c.requests ?? [{ path: '/' }];
    const n = c.n ?? 300;
    const counts = new Map<string, number>();
    const sample: SampleRequest[] = [];
    try {
      for (let i = 0; i < n; i++) {
        const r = requests[i % requests.length];
        sample.push({ method: r.method ?? 'GET', host: r.host ?? 'localhost', path: r.path, headers: {} });
        const who = await get(port, r.path, r.host, r.method);
        counts.set(who, (counts.get(who) ?? 0) + 1);
      }
    } finally {
      await hp.stop();
      await backends.close();
    }
    assert.deepEqual([...counts.keys()].filter((k) => !names.includes(k)), [], 'every request was answered by a backend');

    const load = readHaproxy(cfg, hp.file);
    const report = analyzeLoaded(load, { sampleRequests: sample });
    assert.ok(report.prediction && report.model, `evenkeel predicts: ${load.findings.map((f) => `${f.line}: ${f.code} ${f.message}`).join('; ')}`);
    const lines: string[] = [];
    for (const [pool, servers] of Object.entries(c.pools)) {
      const poolCount = servers.reduce((s, x) => s + (counts.get(x) ?? 0), 0);
      const predictedPool = report.model.pools.get(pool)!.rps / report.model.total;
      lines.push(`pool ${pool}: predicted ${predictedPool.toFixed(3)} measured ${(poolCount / n).toFixed(3)}`);
      assert.ok(Math.abs(predictedPool - poolCount / n) <= TOLERANCE, `pool ${pool}: predicted ${predictedPool}, measured ${poolCount / n}`);
      for (const s of servers) {
        const predicted = report.prediction.pools[pool].backends[s].share;
        const measured = poolCount ? (counts.get(s) ?? 0) / poolCount : 0;
        lines.push(`  ${s}: predicted ${predicted.toFixed(3)} measured ${measured.toFixed(3)}`);
        assert.ok(Math.abs(predicted - measured) <= TOLERANCE, `${pool}/${s}: predicted ${predicted}, measured ${measured} (${counts.get(s) ?? 0} of ${poolCount})`);
      }
    }
    console.log(`# ${c.desc}\n${lines.map((l) => `#   ${l}`).join('\n')}`);
  });
}
