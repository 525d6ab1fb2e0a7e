/**
 * Config test suites (`evenkeel test`): YAML files teams keep next to their config and run in
 * CI. Request cases say where a request must go; distribution assertions bound the shares a
 * pool's backends get over the traffic sample or N synthetic requests. Everything runs
 * through the real route tables and balancers, with a seeded random source so a run is exact.
 */
import { dirname, isAbsolute, resolve } from 'node:path';
import { z } from 'zod';
import { compileKeyExtractor, createBalancer, staticView, type Balancer, type KeyExtractor } from '../balancer/index.js';
import { parseYamlAgainst, readBounded } from '../config/index.js';
import type { Finding } from '../config/index.js';
import type { Config } from '../config/index.js';
import { pct } from '../core/index.js';
import { seededRandom } from '../core/index.js';
import { compileRouteTable, type CompiledRoute, type RouteTable } from '../routing/index.js';
import { loadSampleCached, type SampleRequest } from './sample.js';
import { backendName, servingWeights } from './traffic.js';
import { analyzeLoaded, type ValidationReport } from './validate.js';
import { FORMATS, loadAnyFile } from '../formats/index.js';

const requestSchema = z.strictObject({
  method: z.string().default('GET').transform((m) => m.toUpperCase()),
  host: z.string().default(''),
  path: z.string().startsWith('/').default('/'),
  headers: z.record(z.string(), z.string()).default({}),
  clientIp: z.string().optional(),
  listener: z.string().optional(),
  /** The request carries a valid stickiness cookie naming this backend (of a pool with `stickiness`). */
  sticky: z.string().min(1).optional(),
});

const caseSchema = z.strictObject({
  name: z.string().min(1),
  request: requestSchema,
  expect: z.strictObject({
    status: z.number().int().optional(),
    route: z.string().optional(),
    pool: z.string().optional(),
    backend: z.string().optional(),
    backends: z.array(z.string()).min(1).optional(),
    /** Every request like this one reaches one and the same pool and backend (`pool` and `backends` alone say "may reach"). */
    always: z.boolean().optional(),
  }),
});

const distributionSchema = z.strictObject({
  name: z.string().optional(),
  pool: z.string(),
  route: z.string().optional(),
  backend: z.string().optional(),
  maxShare: z.number().min(0).max(1).optional(),
  share: z.tuple([z.number().min(0).max(1), z.number().min(0).max(1)]).optional(),
  requests: z.union([z.literal('sample'), z.number().int().positive().max(10_000_000)]).default('sample'),
});

/** The suite file's shape. */
export const suiteSchema = z.strictObject({
  config: z.string().min(1),
  /** The config's format when detection should not decide (evenkeel, haproxy, nginx). */
  from: z.enum(FORMATS).optional(),
  /** Guardrails and capacities for a haproxy.cfg or nginx.conf config. */
  guardrails: z.string().min(1).optional(),
  sample: z.string().optional(),
  cases: z.array(caseSchema).default([]),
  distribution: z.array(distributionSchema).default([]),
});

export type Suite = z.output<typeof suiteSchema>;

/** One case's outcome. */
export interface CaseResult {
  name: string;
  ok: boolean;
  detail: string;
  line?: number;
}

/** A whole suite's outcome; `problems` are findings that stopped it (unreadable suite, invalid config). */
export interface SuiteResult {
  file: string;
  config?: string;
  results: CaseResult[];
  problems: Finding[];
  validation?: ValidationReport;
}

/** Loads and runs one suite file. Throws FileReadError when the suite itself cannot be read. */
export function runSuiteFile(file: string): SuiteResult {
  const buf = readBounded(file, 8 * 1024 * 1024);
  if (!buf) return { file, results: [], problems: [{ code: 'EK100', severity: 'error', message: `${file} is larger than 8 MiB`, subject: {}, path: [], hint: 'a test suite is a short YAML file', line: 1, column: 1 }] };
  const parsed = parseYamlAgainst(suiteSchema, buf.toString('utf8'), file, 'a suite needs `config:` and `cases:` or `distribution:`; see examples/website.test.yaml');
  if (!parsed.value) return { file, results: [], problems: parsed.findings };
  const suite = parsed.value;
  const base = dirname(resolve(file));
  const abs = (p: string) => (isAbsolute(p) ? p : resolve(base, p));
  const configFile = abs(suite.config);
  const samplePath = suite.sample ? abs(suite.sample) : undefined;
  const loaded = loadAnyFile(configFile, { from: suite.from, guardrailsFile: suite.guardrails ? abs(suite.guardrails) : undefined, env: process.env });
  if (loaded.format === 'unknown') return { file, config: configFile, results: [], problems: [{ code: 'EK100', severity: 'error', message: loaded.message, subject: {}, path: ['config'], hint: 'point config: at an evenkeel YAML config, a haproxy.cfg or an nginx.conf', line: parsed.locator.locate(['config'])?.line ?? 1, column: 1 }] };
  const validation = analyzeLoaded(loaded, { samplePath });
  const results: CaseResult[] = [];
  const line = (path: (string | number)[]) => parsed.locator.locate(path)?.line;
  results.push({
    name: 'config is valid',
    ok: validation.valid,
    detail: validation.valid ? `${validation.findings.length} findings, none an error` : validation.findings.filter((f) => f.severity === 'error').map((f) => `${f.code} ${f.message}`).join('; '),
    line: line(['config']),
  });
  if (!validation.config) return { file, config: configFile, results, problems: [], validation };
  const sim = new Simulation(validation.config);
  suite.cases.forEach((c, i) => results.push({ ...runCase(sim, c), line: line(['cases', i]) }));
  let sample: SampleRequest[] | undefined;
  const sampleFor = (): SampleRequest[] | string => {
    const path = samplePath ?? validation.config!.guardrails.traffic?.sample;
    if (!path) return 'no traffic sample: set sample: in the suite or guardrails.traffic.sample in the config, or use requests: N';
    sample ??= loadSampleCached(path).requests;
    return sample;
  };
  suite.distribution.forEach((d, i) => results.push({ ...runDistribution(new Simulation(validation.config!), d, sampleFor), line: line(['distribution', i]) }));
  return { file, config: configFile, results, problems: [], validation };
}

/** The data plane's decisions without sockets: route tables, splits and balancers. */
class Simulation {
  readonly tables: RouteTable[];
  private readonly balancers = new Map<string, { balancer: Balancer; key?: KeyExtractor }>();

  constructor(readonly config: Config) {
    this.tables = config.listeners.map(compileRouteTable);
    const random = seededRandom(42);
    for (const [name, pool] of Object.entries(config.pools)) {
      const weights = servingWeights(pool);
      const endpoints = pool.backends.map((b, i) => ({ name: backendName(b), address: b.address, weight: weights[i] }));
      this.balancers.set(name, {
        balancer: createBalancer(pool.algorithm, endpoints, staticView(endpoints), random),
        key: pool.algorithm === 'consistent-hash' && pool.hashOn ? compileKeyExtractor(pool.hashOn) : undefined,
      });
    }
  }

  route(req: SampleRequest): CompiledRoute | undefined {
    for (let i = 0; i < this.tables.length; i++) {
      const l = this.config.listeners[i];
      if (req.listener ? l.name !== req.listener : l.protocol !== 'http') continue;
      const r = this.tables[i].match(req);
      if (r) return r;
    }
    return undefined;
  }

  /** Picks a backend of `pool` for `req`; the name, or undefined when none is usable. */
  pick(pool: string, req: SampleRequest): string | undefined {
    const b = this.balancers.get(pool);
    if (!b) return undefined;
    const i = b.balancer.pick(b.key?.(req));
    return i < 0 ? undefined : backendName(this.config.pools[pool].backends[i]);
  }

  /**
   * Backends a request could reach in `pool`: the one its stickiness cookie names (when the
   * pool is sticky and that backend takes traffic; else the cookie is ignored, as the proxy
   * does), the hashed one, or every usable one.
   */
  possible(pool: string, req: SampleRequest, sticky?: string): string[] {
    const p = this.config.pools[pool];
    if (!p) return [];
    if (p.stickiness && sticky !== undefined && p.backends.some((x) => backendName(x) === sticky && x.weight > 0)) return [sticky];
    const b = this.balancers.get(pool)!;
    if (b.key && b.key(req) !== undefined) {
      const one = this.pick(pool, req);
      return one ? [one] : [];
    }
    const weights = servingWeights(p);
    return p.backends.filter((_, i) => weights[i] > 0).map(backendName);
  }
}

function runCase(sim: Simulation, c: Suite['cases'][number]): CaseResult {
  const { sticky, ...head } = c.request;
  const req: SampleRequest = { ...head, headers: Object.fromEntries(Object.entries(c.request.headers).map(([k, v]) => [k.toLowerCase(), v])) };
  const e = c.expect;
  const route = sim.route(req);
  const fail = (detail: string): CaseResult => ({ name: c.name, ok: false, detail });
  if (!route) {
    if (e.status === 404) return { name: c.name, ok: true, detail: 'no route matches: 404' };
    return fail(`no route matches ${req.method} ${req.host}${req.path} (it would get 404)`);
  }
  if (e.status === 404) return fail(`expected 404, but route ${route.name} matches`);
  if (e.route !== undefined && e.route !== route.name) return fail(`expected route ${e.route}, got route ${route.name}`);
  const pools = route.targets.filter((t) => t.weight > 0 && sim.config.pools[t.pool]).map((t) => t.pool);
  if (e.pool !== undefined && !pools.includes(e.pool)) return fail(`expected pool ${e.pool}, but route ${route.name} sends to ${pools.join(', ') || 'no pool'}`);
  const considered = e.pool !== undefined ? [e.pool] : pools;
  const possible = [...new Set(considered.flatMap((p) => sim.possible(p, req, sticky)))];
  if (e.status === 503) return possible.length === 0 ? { name: c.name, ok: true, detail: `route ${route.name}: no usable backend, 503` } : fail(`expected 503, but ${possible.join(', ')} can serve it`);
  if (possible.length === 0) return fail(`route ${route.name} → ${considered.join(', ')}: no usable backend (503)`);
  if (e.backend !== undefined && !(possible.length === 1 && possible[0] === e.backend)) return fail(`expected backend ${e.backend}, but it may go to ${possible.join(', ')}`);
  if (e.backends !== undefined) {
    const outside = possible.filter((b) => !e.backends!.includes(b));
    if (outside.length) return fail(`it may go to ${outside.join(', ')}, outside the allowed ${e.backends.join(', ')}`);
  }
  if (e.always) {
    if (pools.length > 1) return fail(`expected always one pool, but route ${route.name} splits it across ${pools.join(', ')}`);
    if (possible.length > 1) return fail(`expected always the same backend, but it may go to ${possible.join(', ')} (${sim.config.pools[considered[0]].algorithm}${sim.config.pools[considered[0]].algorithm === 'consistent-hash' ? `: the request carries no ${sim.config.pools[considered[0]].hashOn ?? 'hash key'}` : ''})`);
    return { name: c.name, ok: true, detail: `route ${route.name} → ${considered[0]} → always ${possible[0]}` };
  }
  return { name: c.name, ok: true, detail: `route ${route.name} → ${considered.join(', ')} → ${possible.join(', ')}` };
}

function runDistribution(sim: Simulation, d: Suite['distribution'][number], sampleFor: () => SampleRequest[] | string): CaseResult {
  const name = d.name ?? describeAssertion(d);
  if (!sim.config.pools[d.pool]) return { name, ok: false, detail: `pool ${d.pool} is not in the config` };
  const counts = new Map<string, number>(sim.config.pools[d.pool].backends.map((b) => [backendName(b), 0]));
  let reached = 0;
  let routed = 0;
  let unusable = 0;
  if (d.requests === 'sample') {
    const sample = sampleFor();
    if (typeof sample === 'string') return { name, ok: false, detail: sample };
    for (const req of sample) {
      const route = sim.route(req);
      if (!route || (d.route !== undefined && route.name !== d.route)) continue;
      routed++;
      const t = route.pickTarget();
      if (t < 0 || route.targets[t].pool !== d.pool) continue;
      reached++;
      const b = sim.pick(d.pool, req);
      if (b === undefined) unusable++;
      else counts.set(b, counts.get(b)! + 1);
    }
  } else {
    for (let i = 0; i < d.requests; i++) {
      const req: SampleRequest = { method: 'GET', host: '', path: `/synthetic/${i}`, headers: {}, clientIp: `synthetic-${i}` };
      const pool = sim.config.pools[d.pool];
      if (pool.hashOn?.startsWith('header:')) req.headers = { [pool.hashOn.slice(7).toLowerCase()]: `synthetic-${i}` };
      if (pool.hashOn?.startsWith('cookie:')) req.headers = { cookie: `${pool.hashOn.slice(7)}=synthetic-${i}` };
      reached++;
      const b = sim.pick(d.pool, req);
      if (b === undefined) unusable++;
      else counts.set(b, counts.get(b)! + 1);
    }
  }
  const over = d.requests === 'sample' ? `${reached} sampled requests` : `${reached} synthetic requests`;
  if (reached === 0) return { name, ok: false, detail: `no request reached pool ${d.pool}${d.route ? ` through route ${d.route}` : ''}` };
  const served = reached - unusable;
  const shares = [...counts].map(([b, n]) => [b, served > 0 ? n / served : 0] as const);
  if (d.route !== undefined && d.backend === undefined && d.share) {
    const s = reached / routed;
    const ok = s >= d.share[0] && s <= d.share[1];
    return { name, ok, detail: `route ${d.route} sends ${pct(s)} of its ${routed} requests to pool ${d.pool}; expected ${pct(d.share[0])}–${pct(d.share[1])}` };
  }
  if (unusable > 0) return { name, ok: false, detail: `${unusable} of ${over} found no usable backend in pool ${d.pool} (503)` };
  if (d.maxShare !== undefined) {
    // With `backend`, the bound is that backend's share; without, the largest share in the pool.
    const named = d.backend ? shares.find(([b]) => b === d.backend) : undefined;
    if (d.backend && !named) return { name, ok: false, detail: `backend ${d.backend} is not in pool ${d.pool}` };
    const [top, s] = named ?? [...shares].sort((a, b) => b[1] - a[1])[0];
    if (s > d.maxShare) return { name, ok: false, detail: `${top} gets ${pct(s)} of pool ${d.pool} over ${over}, above ${pct(d.maxShare)}` };
    if (!d.share) return { name, ok: true, detail: `largest share ${pct(s)} (${top}) over ${over}` };
  }
  if (d.share) {
    const targets = d.backend ? shares.filter(([b]) => b === d.backend) : shares;
    if (d.backend && targets.length === 0) return { name, ok: false, detail: `backend ${d.backend} is not in pool ${d.pool}` };
    const bad = targets.filter(([, s]) => s < d.share![0] || s > d.share![1]);
    if (bad.length) return { name, ok: false, detail: `${bad.map(([b, s]) => `${b} gets ${pct(s)}`).join(', ')} over ${over}; expected ${pct(d.share[0])}–${pct(d.share[1])}` };
    return { name, ok: true, detail: `${targets.map(([b, s]) => `${b} ${pct(s)}`).join(', ')} over ${over}` };
  }
  return { name, ok: false, detail: 'the assertion has neither maxShare nor share: nothing to check' };
}

function describeAssertion(d: Suite['distribution'][number]): string {
  const what = d.backend ? `backend ${d.backend} of pool ${d.pool}` : d.route ? `route ${d.route} → pool ${d.pool}` : `pool ${d.pool}`;
  const bound = d.share ? `share within ${pct(d.share[0])}–${pct(d.share[1])}` : d.backend ? `at most ${pct(d.maxShare ?? 1)}` : `no backend above ${pct(d.maxShare ?? 1)}`;
  return `${what}: ${bound}`;
}
