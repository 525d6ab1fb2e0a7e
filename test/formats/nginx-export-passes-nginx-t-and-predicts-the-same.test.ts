/**
 * `evenkeel export nginx` writes an nginx.conf that Debian's `nginx -t` accepts, and that the
 * nginx reader predicts the same per-server shares for as validate does for the original, so
 * a config moved between the two keeps its distribution. What nginx cannot say exactly is a
 * `# not exact:` comment in the file and a warning on stderr.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { validateFile, analyzeLoaded } from '../../src/analysis/index.js';
import { renderNginx } from '../../src/formats/nginx/write.js';
import { readNginx } from '../../src/formats/nginx/index.js';

const dir = mkdtempSync(join(tmpdir(), 'evenkeel-nginx-export-'));

for (const example of ['examples/website.yaml', 'examples/local/evenkeel.yaml']) {
  test(`${example}: nginx -t accepts the export, and the reader predicts the original's shares`, () => {
    const original = validateFile(example);
    assert.ok(original.config && original.prediction, 'the example loads');
    const { text, notes } = renderNginx(original.config, { source: example });
    const file = join(dir, `${example.replace(/\W/g, '_')}.conf`);
    writeFileSync(file, text);
    const t = spawnSync('/usr/sbin/nginx', ['-t', '-q', '-p', dir, '-c', file, '-g', `pid ${join(dir, 'nginx.pid')}; error_log ${join(dir, 'error.log')};`], { encoding: 'utf8' });
    assert.equal(t.status, 0, `nginx -t:\n${t.stderr}\n${text}`);
    for (const n of notes) assert.ok(text.includes(`# not exact: ${n.message}`), `every note is also in the file: ${n.message}`);
    const back = analyzeLoaded(readNginx(text, file));
    // Nothing the exporter wrote is a warning when read back (its `# evenkeel: capacity=N  # name`
    // comments were EK536 once), and every capacity survives.
    assert.deepEqual(back.findings.filter((f) => f.severity !== 'info').map((f) => `${f.line}: ${f.code} ${f.message}`), []);
    for (const [pool, p] of Object.entries(original.prediction.pools)) {
      for (const [name, b] of Object.entries(p.backends)) assert.equal(back.prediction?.pools[pool]?.backends[original.config!.pools[pool].backends.find((x) => (x.name ?? x.address) === name)!.address]?.capacity, b.capacity, `${pool}/${name} capacity`);
    }
    for (const [pool, p] of Object.entries(original.prediction.pools)) {
      const addressOf = new Map(original.config!.pools[pool].backends.map((b) => [b.name ?? b.address, b.address]));
      for (const [name, b] of Object.entries(p.backends)) {
        const exported = back.prediction?.pools[pool]?.backends[addressOf.get(name)!];
        assert.ok(exported, `pool ${pool} server ${addressOf.get(name)} is in the export's prediction`);
        assert.ok(Math.abs(exported.share - b.share) <= 0.03, `pool ${pool} ${name}: ${b.share.toFixed(3)} in the original, ${exported.share.toFixed(3)} in the export`);
      }
    }
  });
}
