/**
 * docs/getting-started.md cannot rot: its commands are run here, from the repository root,
 * with the compiled CLI (`node bin/evenkeel.js` for `npx evenkeel`), and their output is
 * compared with the output shown on the page.
 *
 * Markers (HTML comments, invisible on the rendered page) say what to do with the next block:
 *   <!-- run -->, <!-- run exit=1 -->  run the ```sh block with bash; expect that exit code
 *   <!-- output -->                    the ```text block's lines appear, in order, in the output
 *                                      of the last command block; a line `...` skips any lines,
 *                                      `...` inside a line matches any text
 *   <!-- output from=serve|backends --> the same, against everything that process printed so far
 *   <!-- file=PATH -->                 the ```yaml block is exactly the file PATH
 *   <!-- serve:run -->, <!-- serve:run exit=1 -->
 *                                      run line by line (terminal 3); the last line must exit
 *                                      with that code, the others 0; `pkill -HUP ...` signals serve
 *   <!-- serve:backends -->            start the backends (terminal 1)
 *   <!-- serve:proxy -->               start evenkeel serve (terminal 2)
 *   <!-- serve:stop -->                Ctrl-C: SIGINT to serve, which must exit 0
 *
 * The serve part runs on ports the OS chose (the page's 8080, 9901, 9001-9003 are mapped to
 * them) and in a temp folder instead of /tmp/evenkeel-local; `curl` is a stand-in built on
 * fetch, so the test needs no curl. Everything started is stopped at the end, pass or fail.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ROOT } from './helpers.ts';
import { freePort } from './dataplane/helpers/harness.ts';

const PAGE = readFileSync(join(ROOT, 'docs', 'getting-started.md'), 'utf8');
/** The page's scratch folder and ports, replaced in every command and expected line. */
const PAGE_DIR = '/tmp/evenkeel-local';
const PAGE_PORTS = [8080, 9901, 9001, 9002, 9003];
const BACKEND_PORTS = [9001, 9002, 9003];
/** Generous: the machine may be loaded. A wait is only a bound on a hang, never a timing check. */
const WAIT_MS = 30_000;

/** A marked block of the page. */
interface Block {
  marker: string;
  attrs: Record<string, string>;
  lang: string;
  body: string;
  line: number;
}

/** Every fenced block preceded (blank lines aside) by a `<!-- ... -->` marker, plus bare markers. */
function markedBlocks(md: string): Block[] {
  const lines = md.split('\n');
  const out: Block[] = [];
  for (let i = 0; i < lines.length; i++) {
    const m = /^<!-- (\S+?)(?:=(\S+))?((?: \w+=\S+)*) -->$/.exec(lines[i]);
    if (!m) continue;
    const attrs: Record<string, string> = {};
    for (const a of m[3].trim().split(' ').filter(Boolean)) {
      const [k, v] = a.split('=');
      attrs[k] = v;
    }
    const marker = m[1];
    if (m[2] !== undefined) attrs.value = m[2];
    let j = i + 1;
    while (j < lines.length && lines[j].trim() === '') j++;
    const fence = /^```(\w*)$/.exec(lines[j] ?? '');
    if (!fence || marker === 'serve:stop') {
      out.push({ marker, attrs, lang: '', body: '', line: i + 1 });
      continue;
    }
    const end = lines.indexOf('```', j + 1);
    out.push({ marker, attrs, lang: fence[1], body: lines.slice(j + 1, end).join('\n'), line: i + 1 });
    i = end;
  }
  return out;
}

/** The page's commands as the test runs them. */
function localize(cmd: string, subst: (s: string) => string): string {
  return subst(cmd.replace(/\bnpx evenkeel\b/g, 'node bin/evenkeel.js'));
}

/** Lines of `expected` appear in `actual`, in order (`...` lines skip, `...` in a line is a wildcard). */
function assertShows(actual: string, expected: string, where: string): void {
  const got = actual.split('\n').map((l) => l.trimEnd());
  let at = 0;
  let gap = false;
  for (const want of expected.split('\n').map((l) => l.trimEnd())) {
    if (want === '...') {
      gap = true;
      continue;
    }
    const re = new RegExp(`^${want.split('...').map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);
    let found = -1;
    for (let k = at; k < got.length; k++) {
      if (re.test(got[k])) {
        found = k;
        break;
      }
      // Without a `...`, lines must follow one another.
      if (!gap && k === at && at > 0) break;
    }
    assert.ok(found >= 0, `${where}: expected the line\n  ${want}\nin this order in the output:\n${actual}`);
    at = found + 1;
    gap = false;
  }
}

/** A long-running process of the page, with everything it printed in arrival order. */
class Proc {
  readonly child: ChildProcess;
  output = '';
  readonly exited: Promise<number | null>;
  constructor(command: string, env: NodeJS.ProcessEnv) {
    this.child = spawn('bash', ['-c', `exec ${command}`], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child.stdout!.on('data', (d: Buffer) => (this.output += d.toString()));
    this.child.stderr!.on('data', (d: Buffer) => (this.output += d.toString()));
    this.exited = new Promise((resolve) => this.child.once('exit', (code) => resolve(code)));
  }

  /** Resolves once the output matches `re`; rejects with the output after WAIT_MS. */
  async waitFor(re: RegExp, what: string, from = 0): Promise<void> {
    const deadline = Date.now() + WAIT_MS;
    while (!re.test(this.output.slice(from))) {
      if (this.child.exitCode !== null || Date.now() > deadline) {
        throw new Error(`waiting for ${what}; the process ${this.child.exitCode !== null ? `exited ${this.child.exitCode}` : 'printed'}:\n${this.output}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Signals the process and waits for it to exit (SIGKILL if it does not within WAIT_MS). */
  async stop(signal: NodeJS.Signals): Promise<number | null> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return this.exited;
    this.child.kill(signal);
    const timer = setTimeout(() => this.child.kill('SIGKILL'), WAIT_MS);
    const code = await this.exited;
    clearTimeout(timer);
    return code;
  }
}

/** `curl` for the page's commands, on fetch: -s, -X, -H and a URL are all the page uses. */
const CURL = `#!/usr/bin/env node
const args = process.argv.slice(2);
let method = 'GET';
const headers = {};
let url;
for (let i = 0; i < args.length; i++) {
  const a = args[i];
  if (a === '-s' || a === '--silent') continue;
  else if (a === '-X') method = args[++i];
  else if (a === '-H') { const h = args[++i]; const c = h.indexOf(':'); headers[h.slice(0, c).trim()] = h.slice(c + 1).trim(); }
  else if (a.startsWith('-')) { console.error('curl stand-in: unsupported option ' + a); process.exit(2); }
  else url = a;
}
fetch(url, { method, headers }).then(async (res) => { process.stdout.write(await res.text()); }, (err) => { console.error('curl: (7) ' + err.message); process.exit(7); });
`;

const blocks = markedBlocks(PAGE);
const started: Proc[] = [];
const work = mkdtempSync(join(tmpdir(), 'evenkeel-docs-'));

after(async () => {
  for (const p of started.reverse()) await p.stop('SIGTERM');
  rmSync(work, { recursive: true, force: true });
});

describe('docs/getting-started.md', () => {
  it('has blocks to run, outputs to check and a serve walk-through', () => {
    const markers = new Set(blocks.map((b) => b.marker));
    for (const m of ['run', 'output', 'file', 'serve:run', 'serve:backends', 'serve:proxy', 'serve:stop']) assert.ok(markers.has(m), `no <!-- ${m} --> block`);
    for (const b of blocks) {
      if (['run', 'serve:run', 'serve:backends', 'serve:proxy'].includes(b.marker)) assert.equal(b.lang, 'sh', `line ${b.line}: a ${b.marker} block is \`\`\`sh`);
      assert.ok(['run', 'output', 'file', 'serve:run', 'serve:backends', 'serve:proxy', 'serve:stop'].includes(b.marker), `line ${b.line}: unknown marker ${b.marker}`);
    }
  });

  it('shows the example files as they are', () => {
    for (const b of blocks.filter((x) => x.marker === 'file')) {
      assert.equal(`${b.body}\n`, readFileSync(join(ROOT, b.attrs.value), 'utf8'), `line ${b.line}: ${b.attrs.value} differs from the page`);
    }
  });

  it('runs every command and shows its real output, serving traffic included', async () => {
    const ports = new Map<number, number>();
    for (const p of PAGE_PORTS) {
      let q = await freePort();
      while (PAGE_PORTS.includes(q) || [...ports.values()].includes(q)) q = await freePort();
      ports.set(p, q);
    }
    const dir = join(work, 'local');
    const subst = (s: string) => s.split(PAGE_DIR).join(dir).replace(/127\.0\.0\.1:(\d+)/g, (all, p: string) => (ports.has(Number(p)) ? `127.0.0.1:${ports.get(Number(p))}` : all));
    const bin = join(work, 'bin');
    mkdirSync(bin);
    writeFileSync(join(bin, 'curl'), CURL);
    chmodSync(join(bin, 'curl'), 0o755);
    const env = { ...process.env, PATH: `${bin}:${dirname(process.execPath)}:${process.env.PATH}` };

    let last = '';
    const procs: Record<string, Proc> = {};
    for (const b of blocks) {
      const where = `docs/getting-started.md:${b.line}`;
      if (b.marker === 'run') {
        const r = spawnSync('bash', ['-c', `{ ${localize(b.body, subst)}\n} 2>&1`], { cwd: ROOT, env, encoding: 'utf8', timeout: 120_000 });
        last = r.stdout;
        assert.equal(r.status, Number(b.attrs.exit ?? 0), `${where}: exit code of\n${b.body}\noutput:\n${r.stdout}`);
      } else if (b.marker === 'output') {
        const from = b.attrs.from;
        if (from) {
          const proc = procs[from];
          assert.ok(proc, `${where}: no ${from} process started before this block`);
          // A process prints when it gets to it (logs are asynchronous): wait for the lines.
          const deadline = Date.now() + WAIT_MS;
          for (;;) {
            try {
              assertShows(proc.output, subst(b.body), where);
              break;
            } catch (err) {
              if (Date.now() > deadline) throw err;
              await new Promise((r) => setTimeout(r, 50));
            }
          }
        } else {
          assertShows(last, subst(b.body), where);
        }
      } else if (b.marker === 'serve:run') {
        last = '';
        const lines = b.body.split('\n').filter((l) => l.trim() !== '' && !l.trim().startsWith('#'));
        for (const [i, line] of lines.entries()) {
          if (/^\s*p?kill -HUP\b/.test(line)) {
            const serve = procs.serve;
            assert.ok(serve, `${where}: SIGHUP before serve was started`);
            const mark = serve.output.length;
            serve.child.kill('SIGHUP');
            await serve.waitFor(/reloaded|reload refused/, `the reload after ${where}`, mark);
            continue;
          }
          const r = spawnSync('bash', ['-c', `{ ${localize(line, subst)}\n} 2>&1`], { cwd: ROOT, env, encoding: 'utf8', timeout: 60_000 });
          assert.equal(r.status, i === lines.length - 1 ? Number(b.attrs.exit ?? 0) : 0, `${where}: ${line}\n${r.stdout}`);
          last += r.stdout;
        }
        // The page's config file, once copied, listens on the test's ports.
        try {
          const file = join(dir, 'evenkeel.yaml');
          writeFileSync(file, subst(readFileSync(file, 'utf8')));
        } catch {
          // not copied yet
        }
      } else if (b.marker === 'serve:backends') {
        const args = BACKEND_PORTS.map((p) => ports.get(p)).join(' ');
        const p = new Proc(`${localize(b.body.trim(), subst)} ${args}`, env);
        started.push(p);
        procs.backends = p;
        await p.waitFor(new RegExp(`listening on http://127\\.0\\.0\\.1:${ports.get(9003)}`), 'the backends');
      } else if (b.marker === 'serve:proxy') {
        const p = new Proc(localize(b.body.trim(), subst), env);
        started.push(p);
        procs.serve = p;
        await p.waitFor(/admin: http:/, 'evenkeel serve to start');
      } else if (b.marker === 'serve:stop') {
        assert.ok(procs.serve, `${where}: stop before serve was started`);
        assert.equal(await procs.serve.stop('SIGINT'), 0, `${where}: serve exits 0 on Ctrl-C\n${procs.serve.output}`);
      }
    }
    assert.ok(procs.serve && procs.serve.child.exitCode === 0, 'the page stops serve');
  });
});
