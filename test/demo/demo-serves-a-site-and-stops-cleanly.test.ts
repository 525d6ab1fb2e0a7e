/**
 * `npm start` (`evenkeel demo`) as a new user meets it: the compiled CLI prints the site and
 * dashboard URLs and the token, the site answers through evenkeel, and Ctrl-C stops
 * everything the demo started and removes its folder. `--incident` replays the outage on the
 * live site: refused, the canary aborted, rolled back by itself, then the report.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ROOT } from '../helpers.ts';

/** Generous bounds on hangs; never timing checks. */
const START_MS = 30_000;
const STOP_MS = 15_000;

interface Demo {
  child: ChildProcess;
  out: string;
  err: string;
  exited: Promise<number | null>;
}

const running: Demo[] = [];
// A test that failed half-way still stops its demo the way a user would (Ctrl-C, which removes
// the demo's folder); SIGKILL only if that hangs, and then the folder goes here.
after(async () => {
  for (const d of running) {
    if (d.child.exitCode === null && d.child.signalCode === null) await stop(d);
    const dir = /^ {2}config +(\S+)\/evenkeel\.yaml$/m.exec(d.out)?.[1];
    if (dir) rmSync(dir, { recursive: true, force: true });
  }
});

function startDemo(args: string[] = []): Demo {
  const child = spawn(process.execPath, [join(ROOT, 'bin', 'evenkeel.js'), 'demo', ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  const d: Demo = { child, out: '', err: '', exited: new Promise((r) => child.once('exit', (code) => r(code))) };
  child.stdout!.on('data', (c) => (d.out += c));
  child.stderr!.on('data', (c) => (d.err += c));
  running.push(d);
  return d;
}

async function waitFor(d: Demo, re: RegExp, ms: number): Promise<RegExpExecArray> {
  const until = Date.now() + ms;
  for (;;) {
    const m = re.exec(d.out);
    if (m) return m;
    if (d.child.exitCode !== null) throw new Error(`demo exited ${d.child.exitCode} before ${re}:\n${d.out}\n${d.err}`);
    if (Date.now() > until) throw new Error(`timed out waiting for ${re}:\n${d.out}\n${d.err}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function stop(d: Demo): Promise<number | null> {
  d.child.kill('SIGINT');
  const t = setTimeout(() => d.child.kill('SIGKILL'), STOP_MS);
  const code = await d.exited;
  clearTimeout(t);
  return code;
}

/** True when something accepts connections on 127.0.0.1:port. */
function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
  });
}

/** Processes whose parent is `pid` (none: the demo runs everything in its own process). */
function children(pid: number): number[] {
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === pid) out.push(Number(name));
    } catch {
      // the process ended while we looked
    }
  }
  return out;
}

describe('evenkeel demo (npm start)', () => {
  it('prints the site, the dashboard and the token, serves the site through evenkeel, and Ctrl-C stops everything and removes its folder', async () => {
    const d = startDemo();
    const site = (await waitFor(d, /^ {2}site +(http:\/\/127\.0\.0\.1:(\d+)\/)/m, START_MS));
    const dashboard = await waitFor(d, /^ {2}dashboard +(http:\/\/127\.0\.0\.1:(\d+)\/)/m, START_MS);
    const token = (await waitFor(d, /^ {2}token +(\S+)\n +\(in (\S+)\)/m, START_MS));
    const config = await waitFor(d, /^ {2}config +(\S+evenkeel\.yaml)$/m, START_MS);
    assert.match(d.out, /an apply would be REFUSED/, 'it opens with the refused change');
    assert.match(d.out, /error EK209: all traffic of pool web goes to web-1/);
    assert.match(d.out, /Ctrl-C stops everything/);
    const dir = config[1].slice(0, -'/evenkeel.yaml'.length);
    assert.ok(existsSync(dir));
    assert.equal(readFileSync(token[2], 'utf8').trim(), token[1], 'the printed token is the one in the printed file');

    const page = await fetch(site[1]);
    assert.equal(page.status, 200);
    assert.match(page.headers.get('x-served-by') ?? '', /^srv-\d$/);
    assert.match(await page.text(), /example shop/);
    const api = await fetch(`${site[1]}api/products`);
    assert.equal(api.status, 200);
    assert.equal(((await api.json()) as { ok: boolean }).ok, true);
    const status = await fetch(`${dashboard[1]}api/v1/status`, { headers: { authorization: `Bearer ${token[1]}` } });
    assert.equal(status.status, 200, 'the printed token opens the admin API');
    assert.equal(((await status.json()) as { version: number }).version, 1);
    assert.deepEqual(children(d.child.pid!), [], 'the demo starts no other process');

    const code = await stop(d);
    assert.equal(code, 0, d.out + d.err);
    assert.match(d.out, /stopped: the servers, evenkeel and the traffic; removed /);
    assert.ok(!existsSync(dir), `${dir} is removed`);
    assert.equal(await listening(Number(site[2])), false, 'the site port is closed');
    assert.equal(await listening(Number(dashboard[2])), false, 'the admin port is closed');
  });

  it('--incident replays the outage live: refused, the canary aborted, rolled back by itself, and the report', async () => {
    const d = startDemo(['--incident', '--incident-after', '2s']);
    await waitFor(d, /The demo keeps serving/, 110_000);
    assert.match(d.out, /1\/3 .*\n[\s\S]*→ refused before anything changed; requests failed since the apply: 0 of/);
    assert.match(d.out, /→ the canary was aborted; the site kept serving version 1/);
    assert.match(d.out, /alert fired, [\d.]+ s after the change/);
    assert.match(d.out, /rolled back automatically to version 1, [\d.]+ s after the change/);
    assert.match(d.out, /^# Postmortem: /m);
    assert.match(d.out, /Automatic rollback to v1/);
    const code = await stop(d);
    assert.equal(code, 0, 'every step went as expected');
  });
});
