/**
 * The token-protected routes of the admin API (`/api/v1/…`): status, versions and their diffs,
 * events, apply, rollback and reload, and a backend's weight (a drain is weight 0: a change of
 * the active version, judged as an apply, backend-weight.ts). Each answers `{ status, body }`;
 * admin.ts owns auth and error mapping.
 */
import type { IncomingMessage } from 'node:http';
import { UsageError } from '../errors.js';
import type { ApplyOutcome, ApplyRequest, RollbackOutcome } from './changes.js';
import { withBackendWeight } from './backend-weight.js';
import { changedKeys, unifiedDiff } from './report/diff.js';
import type { ConfigStore, ConfigVersion } from './store/index.js';

/** 200 for a change that went in, or that was already serving (nothing to do); `refused` otherwise. */
function answered(r: { applied: boolean; unchanged?: boolean }, refused: number): number {
  return r.applied || r.unchanged ? 200 : refused;
}

/** What the API routes need from the instance. */
export interface ApiHandlers {
  status(): Promise<unknown>;
  reload(): Promise<{ applied: boolean; unchanged?: boolean }>;
  apply(req: ApplyRequest): Promise<ApplyOutcome>;
  rollback(req: { to?: number; reason: string; author: string; force?: boolean }): Promise<RollbackOutcome>;
  store: ConfigStore;
  /** The config file serve was started with (relative paths in a version resolve against it). */
  configFile?: string;
}

/** An answer to send as JSON. */
export interface Answer {
  status: number;
  body: unknown;
}

/** Largest request body accepted (a config text with room to spare). */
const MAX_BODY = 4 * 1024 * 1024;

/** Routes one authorized request; undefined when no route matches. */
export async function apiRoute(req: IncomingMessage, url: URL, h: ApiHandlers): Promise<Answer | undefined> {
  const path = url.pathname;
  const get = req.method === 'GET';
  const post = req.method === 'POST';
  if (get && path === '/api/v1/status') return { status: 200, body: await h.status() };
  if (get && path === '/api/v1/versions') {
    const [versions, lkg] = await Promise.all([h.store.list({ limit: numberParam(url, 'limit') }), h.store.lastKnownGood()]);
    return { status: 200, body: { lastKnownGood: lkg?.id ?? null, versions: versions.map((v) => meta(v, lkg?.id)) } };
  }
  const one = /^\/api\/v1\/versions\/(\d+|active|last-known-good)$/.exec(path);
  if (get && one) {
    const lkg = await h.store.lastKnownGood();
    const v = one[1] === 'active' ? await h.store.active() : one[1] === 'last-known-good' ? lkg : await h.store.get(Number(one[1]));
    if (!v) return { status: 404, body: { error: `no version ${one[1]}` } };
    return { status: 200, body: { ...meta(v, lkg?.id), text: v.text } };
  }
  const diff = /^\/api\/v1\/versions\/(\d+)\/diff$/.exec(path);
  if (get && diff) return versionDiff(h.store, Number(diff[1]), numberParam(url, 'against'));
  if (get && path === '/api/v1/events') {
    const events = await h.store.events({ since: timeParam(url, 'since'), until: timeParam(url, 'until'), limit: numberParam(url, 'limit'), version: numberParam(url, 'version') });
    return { status: 200, body: { events: events.map((e) => ({ ...e, time: new Date(e.time).toISOString() })) } };
  }
  if (post && path === '/api/v1/reload') {
    req.resume();
    const result = await h.reload();
    return { status: answered(result, 422), body: result };
  }
  if (post && path === '/api/v1/apply') {
    const b = await readJson(req);
    if (typeof b.text !== 'string' || !b.text) throw new UsageError('apply needs "text": the config YAML');
    const reason = str(b.reason);
    if (b.force === true && !reason.trim()) throw new UsageError('"force" needs a non-empty "reason"');
    if (b.canary !== undefined && typeof b.canary !== 'boolean') throw new UsageError('"canary" must be true or false');
    const drainToOne = b.drainToOne === undefined ? undefined : b.drainToOne;
    if (drainToOne !== undefined && (!Array.isArray(drainToOne) || !drainToOne.every((x) => typeof x === 'string'))) throw new UsageError('"drainToOne" must be a list of pool names');
    const r = await h.apply({ text: b.text, file: str(b.file) || '<apply>', author: str(b.author) || 'admin-api', reason, force: b.force === true, canary: b.canary !== false, drainToOne: drainToOne as string[] | undefined });
    return { status: answered(r, 409), body: r };
  }
  const weight = /^\/api\/v1\/pools\/([^/]+)\/backends\/([^/]+)\/weight$/.exec(path);
  if (post && weight) {
    const b = await readJson(req);
    const reason = str(b.reason);
    if (!reason.trim()) throw new UsageError('a weight change needs a non-empty "reason" (it is recorded with the version it makes)');
    if (b.canary !== undefined && typeof b.canary !== 'boolean') throw new UsageError('"canary" must be true or false');
    const active = await h.store.active();
    if (!active) throw new UsageError('nothing is served yet');
    const change = { pool: decodeURIComponent(weight[1]), backend: decodeURIComponent(weight[2]), weight: b.weight as number };
    const text = withBackendWeight(active.text, change);
    const r = await h.apply({ text, file: h.configFile ?? '<weight>', author: str(b.author) || 'admin-api', reason, force: b.force === true, canary: b.canary !== false });
    return { status: answered(r, 409), body: { ...r, change } };
  }
  if (post && path === '/api/v1/rollback') {
    const b = await readJson(req);
    const to = b.to === undefined || b.to === null ? undefined : Number(b.to);
    if (to !== undefined && !Number.isInteger(to)) throw new UsageError('"to" must be a version number');
    if (b.force !== undefined && typeof b.force !== 'boolean') throw new UsageError('"force" must be true or false');
    if (b.force === true && !str(b.reason).trim()) throw new UsageError('"force" needs a non-empty "reason"');
    const r = await h.rollback({ to, reason: str(b.reason) || 'manual rollback', author: str(b.author) || 'admin-api', force: b.force === true });
    return { status: 200, body: r };
  }
  return undefined;
}

/**
 * A version's unified diff and key-by-key changes against `against`, or by default against the
 * version it was judged against: the one it replaced (config.applied), the one it was refused
 * against (config.refused), or else the version stored just before it.
 */
async function versionDiff(store: ConfigStore, id: number, against: number | undefined): Promise<Answer> {
  const v = await store.get(id);
  if (!v) return { status: 404, body: { error: `no version ${id}` } };
  let baseId = against;
  if (baseId === undefined) {
    const judged = (await store.events({ type: ['config.applied', 'config.refused', 'canary.started'], version: id })).at(0);
    const named = judged?.data.previous ?? judged?.data.against;
    baseId = typeof named === 'number' ? named : id > 1 ? id - 1 : undefined;
  }
  if (baseId === undefined) return { status: 200, body: { id, against: null, diff: '', changes: [] } };
  const base = await store.get(baseId);
  if (!base) return { status: 404, body: { error: `no version ${baseId}` } };
  return { status: 200, body: { id, against: base.id, diff: unifiedDiff(base.text, v.text, `v${base.id}`, `v${id}`), changes: changedKeys(base.text, v.text) } };
}

function meta(v: ConfigVersion, lkg: number | undefined) {
  return { id: v.id, hash: v.hash, author: v.author, reason: v.reason, createdAt: new Date(v.createdAt).toISOString(), status: v.status, knownGood: v.id === lkg };
}

function str(v: unknown): string {
  return typeof v === 'string' ? v : '';
}

function numberParam(url: URL, name: string): number | undefined {
  const v = url.searchParams.get(name);
  if (v === null) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new UsageError(`${name}=${v}: expected a whole number`);
  return n;
}

function timeParam(url: URL, name: string): number | undefined {
  const v = url.searchParams.get(name);
  if (v === null || v === '') return undefined;
  const t = Date.parse(v);
  if (Number.isNaN(t)) throw new UsageError(`${name}=${v}: expected an ISO 8601 time such as 2025-01-31T14:00:00Z`);
  return t;
}

/** Reads a JSON object body (at most MAX_BODY bytes); throws UsageError otherwise. */
export async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req as AsyncIterable<Buffer>) {
    size += c.length;
    if (size > MAX_BODY) throw new UsageError(`the request body is larger than ${MAX_BODY} bytes`);
    chunks.push(c);
  }
  if (size === 0) return {};
  try {
    const v = JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
    if (typeof v === 'object' && v !== null && !Array.isArray(v)) return v as Record<string, unknown>;
  } catch {
    // fall through to the usage error
  }
  throw new UsageError('the request body must be a JSON object');
}
