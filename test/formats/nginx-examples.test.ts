// examples/nginx: the realistic site + API is accepted; every bad config, each from a real
// incident or pitfall, passes `nginx -t` (nginx sees nothing wrong) and is refused by
// evenkeel with the finding and the server its `# expect: CODE SERVER` line names.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readNginxFile } from '../../src/formats/nginx/index.js';
import { analyzeLoaded } from '../../src/analysis/validate.js';
import { NGINX, noNginx } from './nginx-harness.js';

const dir = join(import.meta.dirname, '..', '..', 'examples', 'nginx');
const good = join(dir, 'site-and-api', 'nginx.conf');
const bad = readdirSync(join(dir, 'bad')).filter((f) => f.endsWith('.conf')).map((f) => join(dir, 'bad', f));
const show = (r: ReturnType<typeof analyzeLoaded>) => r.findings.map((f) => `${f.file ?? ''}:${f.line}: ${f.severity} ${f.code} ${f.message}`).join('\n');

test('the site + API example is accepted with no error or warning', () => {
  const r = analyzeLoaded(readNginxFile(good));
  assert.equal(r.valid, true, show(r));
  assert.deepEqual(r.findings.filter((f) => f.severity !== 'info').map((f) => f.code), [], show(r));
  assert.deepEqual(Object.keys(r.prediction!.pools).sort(), ['api', 'reports', 'web', 'web_next']);
  for (const pool of Object.values(r.prediction!.pools)) for (const b of Object.values(pool.backends)) assert.ok(b.utilization !== null && b.utilization < 0.8);
});

test('there are at least six bad examples', () => assert.ok(bad.length >= 6, bad.join(', ')));

for (const file of bad) {
  const expect = /^# expect: (EK\d{3}) (\S+)$/m.exec(readFileSync(file, 'utf8'));
  test(`${file.slice(dir.length + 1)} is refused with ${expect?.[1]} naming ${expect?.[2]}`, () => {
    assert.ok(expect, 'the example needs a "# expect: CODE SERVER" line');
    const r = analyzeLoaded(readNginxFile(file));
    assert.equal(r.valid, false, show(r));
    const hit = r.findings.find((f) => f.code === expect[1] && f.severity === 'error');
    assert.ok(hit, `no ${expect[1]} error:\n${show(r)}`);
    assert.ok(hit.subject.backend === expect[2] || hit.message.includes(expect[2]), `${expect[1]} does not name ${expect[2]}: ${hit.message}`);
  });
}

test('nginx -t accepts every example: nginx sees nothing wrong with them', { skip: noNginx }, () => {
  const tmp = mkdtempSync(join(tmpdir(), 'evenkeel-nginx-t-'));
  for (const file of [good, ...bad]) {
    const r = spawnSync(NGINX, ['-t', '-q', '-c', file, '-g', `error_log ${join(tmp, 'error.log')}; pid ${join(tmp, 'nginx.pid')};`], { encoding: 'utf8' });
    assert.equal(r.status, 0, `${file}: ${r.stderr}`);
  }
});

test('the pre-reload hook of docs/nginx.md: the real `nginx -T` dump of the site example validates, positions in the original files', { skip: noNginx }, () => {
  const tmp = mkdtempSync(join(tmpdir(), 'evenkeel-nginx-T-'));
  const dumped = spawnSync(NGINX, ['-T', '-q', '-c', good, '-g', `error_log ${join(tmp, 'error.log')}; pid ${join(tmp, 'nginx.pid')};`], { encoding: 'utf8' });
  assert.equal(dumped.status, 0, dumped.stderr);
  const dumpFile = join(tmp, 'nginx-T.txt');
  writeFileSync(dumpFile, dumped.stdout);
  const fromDump = analyzeLoaded(readNginxFile(dumpFile));
  const direct = analyzeLoaded(readNginxFile(good));
  assert.equal(fromDump.valid, true, show(fromDump));
  assert.deepEqual(fromDump.prediction, direct.prediction);
  const where = (r: ReturnType<typeof analyzeLoaded>) => r.findings.map((f) => `${f.code} ${f.file ?? good}:${f.line}`).sort();
  assert.deepEqual(where(fromDump), where(direct));
});
