// Property: whatever text arrives as nginx.conf — generated from nginx's grammar, mutated,
// or plain garbage — reading and validating it yields findings with positions, never an
// exception. Regressions found by these properties are pinned as examples at the end.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { readNginx } from '../../src/formats/nginx/index.js';
import { analyzeLoaded } from '../../src/analysis/validate.js';
import { CODES } from '../../src/config/findings.js';

function check(text: string, files: Record<string, string> = {}): void {
  const load = readNginx(text, '/fuzz/nginx.conf', { readFile: (p) => files[p], listDir: (d) => Object.keys(files).filter((f) => f.startsWith(`${d}/`)).map((f) => f.slice(d.length + 1).split('/')[0]) });
  const report = analyzeLoaded(load);
  for (const f of report.findings) {
    assert.ok(f.code in CODES, `unknown code ${f.code}`);
    assert.ok(typeof f.message === 'string' && f.message.length > 0);
    assert.ok(typeof f.hint === 'string' && f.hint.length > 0);
    assert.ok(f.line === undefined || (Number.isInteger(f.line) && f.line >= 1), `bad line ${f.line} for ${f.code}`);
    if (f.severity === 'error') assert.equal(report.valid, false);
  }
}

const word = fc.constantFrom('app', 'api', 'web', 'x', '$pool', '${v}', '"quoted name"', "'s'", 'a\\;b', '#c', '{', '}', ';', '');
const addr = fc.oneof(
  fc.tuple(fc.integer({ min: 0, max: 300 }), fc.option(fc.integer({ min: 0, max: 70000 }), { nil: undefined })).map(([h, p]) => `10.0.0.${h}${p === undefined ? '' : `:${p}`}`),
  fc.constantFrom('unix:/tmp/s.sock', '[::1]:8080', 'app.internal', 'a:b:c', '', 'localhost:0'),
);
const param = fc.constantFrom('weight=2', 'weight=0', 'weight=x', 'down', 'backup', 'max_fails=3', 'fail_timeout=10s', 'max_conns=5', 'max_conns=x', 'bogus', '# evenkeel: capacity=500', '# evenkeel: capacity=-1 nope');
const server = fc.tuple(addr, fc.array(param, { maxLength: 3 })).map(([a, ps]) => `server ${a} ${ps.filter((p) => !p.startsWith('#')).join(' ')};${ps.find((p) => p.startsWith('#')) ?? ''}`);
const balance = fc.constantFrom('', 'least_conn;', 'ip_hash;', 'hash $request_uri;', 'hash "k" consistent;', 'hash $http_x_user;', 'random two;', 'random;', 'hash;', 'keepalive 16;', 'sticky cookie s;');
const upstream = fc.tuple(fc.constantFrom('app', 'api', 'web', 'bad name!', 'APP'), balance, fc.array(server, { maxLength: 4 })).map(([n, b, ss]) => `upstream ${n} {\n  ${b}\n  ${ss.join('\n  ')}\n}`);
const locMod = fc.constantFrom('', '= ', '^~ ', '~ ', '~* ', '@');
const locPath = fc.constantFrom('/', '/api/', '/api/v1/', '^/api/', '\\.php$', '/static/', 'named', '^/a.*');
const target = fc.constantFrom('http://app', 'http://api/', 'http://web:8080', 'http://$pool', 'http://$other', 'http://10.0.0.9:81/x', 'https://app', 'fastcgi://x', 'http://ap', '');
const location = fc.tuple(locMod, locPath, fc.option(target, { nil: undefined }), fc.boolean()).map(([m, p, t, nested]) => `location ${m}${p} {\n ${t === undefined ? 'root /srv;' : `proxy_pass ${t};`}${nested ? ` location ${p}x/ { proxy_pass http://app; }` : ''}\n}`);
const listen = fc.constantFrom('listen 80;', 'listen 127.0.0.1:8080;', 'listen [::]:80;', 'listen 8080 default_server;', 'listen unix:/x;', 'listen *:81;', 'listen;', 'listen 99999;');
const serverName = fc.constantFrom('', 'server_name example.com;', 'server_name *.example.com .example.org;', 'server_name _;', 'server_name ~^www\\d+$;', 'server_name www.*;', 'server_name "";');
const vserver = fc.tuple(fc.array(listen, { maxLength: 2 }), serverName, fc.array(location, { maxLength: 4 })).map(([ls, sn, locs]) => `server {\n${ls.join('\n')}\n${sn}\n${locs.join('\n')}\n}`);
const split = fc.constantFrom('', 'split_clients "${remote_addr}" $pool { 50% app; * api; }', 'split_clients "const" $pool { 10% app; 90% api; }', 'split_clients $x $pool { 150% app; }', 'split_clients "${request_id}" $pool { 0.5% web; }');
const comment = fc.constantFrom('', '# evenkeel: peakRps=1000', '# evenkeel: peakRps=abc', '# evenkeel: maxBackendShare=0.6 headroom=0.1', '# evenkeel: sample=./t.jsonl', '# plain comment');
const conf = fc.tuple(comment, fc.array(upstream, { maxLength: 3 }), split, fc.array(vserver, { maxLength: 3 }), fc.constantFrom('', 'include conf.d/*.conf;', 'include a.conf;', 'include ../x;')).map(([c, ups, sp, ss, inc]) => `${c}\nevents {}\nhttp {\n${inc}\n${ups.join('\n')}\n${sp}\n${ss.join('\n')}\n}\n`);

test('configs generated from nginx grammar never throw', () => {
  fc.assert(fc.property(conf, (text) => check(text, { '/fuzz/a.conf': 'include a.conf;', '/fuzz/conf.d/x.conf': 'upstream web { server 10.0.0.5:80; }' })), { numRuns: 400 });
});

test('generated configs with random cuts and splices never throw', () => {
  fc.assert(fc.property(conf, fc.nat(), fc.nat(), fc.string({ maxLength: 8 }), (text, a, b, insert) => {
    const i = a % (text.length + 1);
    const j = Math.min(text.length, i + (b % 12));
    check(text.slice(0, i) + insert + text.slice(j));
  }), { numRuns: 400 });
});

test('garbage never throws', () => {
  const tokenSoup = fc.array(fc.oneof(word, fc.constantFrom(' ', '\n', '\t', '"', "'", '\\', '$', '${', '{', '}', ';', '#', '\r\n', 'http', 'server', 'upstream', 'location', 'include')), { maxLength: 60 }).map((xs) => xs.join(''));
  fc.assert(fc.property(fc.oneof(fc.string({ maxLength: 300 }), fc.string({ unit: 'grapheme', maxLength: 200 }), tokenSoup), (text) => check(text)), { numRuns: 600 });
});

test('deep nesting and include fan-out are findings, not a stack overflow or a blow-up', () => {
  check(`${'a {'.repeat(100000)}${'}'.repeat(100000)}`);
  check(`http { ${'location / {'.repeat(60)}${'}'.repeat(60)} }`);
  // Each file includes the next one ten times: 10^6 reads without a budget.
  const fanOut: Record<string, string> = {};
  for (let k = 0; k < 6; k++) fanOut[`/fuzz/f${k}.conf`] = `${'x'.repeat(1000)};\n`.replace(/^/, '# ') + `include f${k + 1}.conf;\n`.repeat(10);
  fanOut['/fuzz/f6.conf'] = `# ${'y'.repeat(100000)}\n`;
  check('http { include f0.conf; }', fanOut);
});

test('regressions found by the properties', () => {
  for (const text of ['', '{', '}', ';', '"', "'", '\\', 'http {', 'http { server { location', 'a "b"c;', 'upstream {}', 'http { upstream a { server ; } }', 'http{server{listen 1;location /{proxy_pass http://[::1;}}}', 'include', 'include ;', 'http { split_clients; }', 'events{}http{upstream a{server 10.0.0.1;}server{location ~ ^/$ {proxy_pass http://a;}}}']) check(text);
});
