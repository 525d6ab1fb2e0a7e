/**
 * Property: a traffic sample is read exactly, line for line, whatever the chunks it is read in
 * fall on. The fast path parses 64 KiB of lines at a time (src/analysis/sample.ts): lines
 * across a chunk boundary, lines longer than a chunk, CRLF, no final newline, non-ASCII text —
 * each must give the request a per-line JSON.parse gives; a blank, broken or doubled line must
 * be reported at its own line number. A pipe is read too, and an endless device is refused.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { loadSample, type SampleRequest } from '../src/analysis/index.ts';
import { parseInChunks } from '../src/analysis/sample.ts';

const dir = mkdtempSync(join(tmpdir(), 'ek-sample-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

interface Line {
  method?: string;
  host?: string;
  path?: string;
  headers?: Record<string, string>;
  clientIp?: string;
}

const text = fc.oneof(fc.string({ unit: fc.constantFrom('a', 'Z', '"', '\\', ' ', 'é', '漢', '\u2028', '\n'), maxLength: 12 }), fc.string({ unit: 'binary', maxLength: 12 }));
const line = fc.record(
  {
    method: fc.constantFrom('get', 'POST', 'Delete'),
    host: text,
    path: text.map((s) => `/${s}`),
    headers: fc.dictionary(fc.constantFrom('X-User', 'accept', 'X-Trace'), text, { maxKeys: 2 }),
    clientIp: fc.constantFrom('10.0.0.1', '192.168.1.7'),
  },
  { requiredKeys: [] },
);
/** Now and then a line far longer than a chunk (64 KiB), so the buffer has to grow. */
const sampleLines = fc.array(fc.tuple(line, fc.nat({ max: 30 })), { minLength: 1, maxLength: 400 }).map((xs) =>
  xs.map(([l, n]) => (n === 0 ? { ...l, headers: { ...l.headers, 'x-pad': 'p'.repeat(70_000 + n) } } : l)),
);

/** What one line becomes: the reader's normalisation, applied to a per-line JSON.parse. */
function expected(l: Line): SampleRequest {
  const o = JSON.parse(JSON.stringify(l)) as Line;
  const headers = Object.fromEntries(Object.entries(o.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v]));
  return { ...o, method: (o.method ?? 'GET').toUpperCase(), host: o.host ?? '', path: o.path ?? '/', headers } as SampleRequest;
}

let n = 0;
function write(content: string): string {
  const file = join(dir, `s${n++}.jsonl`);
  writeFileSync(file, content);
  return file;
}

test('every well-formed sample is read line for line, wherever the chunks fall', () => {
  fc.assert(
    fc.property(sampleLines, fc.constantFrom('\n', '\r\n'), fc.boolean(), (lines, eol, finalNewline) => {
      const file = write(lines.map((l) => JSON.stringify(l)).join(eol) + (finalNewline ? eol : ''));
      const s = loadSample(file);
      assert.deepEqual(s.findings, []);
      assert.deepEqual(s.requests, lines.map(expected));
      // …and by the fast path itself, not by the line-by-line one it falls back to.
      const fast: SampleRequest[] = [];
      assert.equal(parseInChunks(file, fast), 'done');
      assert.deepEqual(fast, s.requests);
    }),
    { numRuns: 60 },
  );
});

test('a blank line is skipped and a broken or doubled line is reported at its own line number', () => {
  fc.assert(
    fc.property(sampleLines, fc.nat(), fc.constantFrom('blank', 'broken', 'doubled', 'array'), (lines, at, kind) => {
      const i = at % (lines.length + 1);
      const odd = { blank: '', broken: '{"path":"/x"', doubled: '{"path":"/a"},{"path":"/b"}', array: '[{"path":"/a"}]' }[kind];
      const texts = lines.map((l) => JSON.stringify(l));
      texts.splice(i, 0, odd);
      const s = loadSample(write(`${texts.join('\n')}\n`));
      assert.deepEqual(s.requests, lines.map(expected));
      if (kind === 'blank') {
        assert.deepEqual(s.findings, []);
      } else {
        assert.equal(s.findings.length, 1, JSON.stringify(s.findings));
        assert.equal(s.findings[0].line, i + 1);
        assert.match(s.findings[0].message, new RegExp(`^traffic sample line ${i + 1}: `));
      }
    }),
    { numRuns: 60 },
  );
});

test('a sample read from a pipe is read whole', async () => {
  const lines = Array.from({ length: 5000 }, (_, i) => ({ path: `/p/${i}`, host: 'example.com' }));
  const source = write(lines.map((l) => JSON.stringify(l)).join('\n'));
  const fifo = join(dir, 'fifo');
  const made = spawn('mkfifo', [fifo]);
  await new Promise((r) => made.on('exit', r));
  const writer = spawn('sh', ['-c', 'cat "$1" > "$2"', 'sh', source, fifo]);
  const done = new Promise((r) => writer.on('exit', r));
  const s = loadSample(fifo);
  await done;
  assert.deepEqual(s.findings, []);
  assert.deepEqual(s.requests, lines.map(expected));
});

test('an endless device is refused at the size limit, not read until memory runs out', () => {
  const s = loadSample('/dev/zero');
  assert.equal(s.requests.length, 0);
  assert.equal(s.findings.length, 1);
  assert.match(s.findings[0].message, /^traffic sample \/dev\/zero is over 256 MiB; at most 256 MiB$/);
});
