/**
 * The outage as a scenario, shared by `evenkeel demo --incident` (replayed live and narrated)
 * and the outage replay (bench/replay/scenario.ts: measured in `npm run replay` and
 * test/replay/): four servers of a finite capacity behind evenkeel, a good config with every
 * web server at weight 1, and the outage's change, three of the four set to weight 0, applied
 * three ways, each with the outcome evenkeel must produce.
 */

/** The three ways the change is applied, in the order the scenario runs them. */
export type OutageStepName = 'refused' | 'canary' | 'rollback';

/** One way of applying the outage's change, and what must follow. */
export interface OutageStep {
  readonly name: OutageStepName;
  /** For tables and progress lines. */
  readonly title: string;
  /** The flags `evenkeel apply bad.yaml --reason …` gets. */
  readonly flags: readonly string[];
  /** The exit code of that apply. */
  readonly exitCode: number;
  /** The journal event that must follow (none: nothing may change). */
  readonly event?: 'canary.aborted' | 'rollback.auto';
}

/** The change refused by the gate; forced, and aborted by its canary; forced with no canary, and rolled back by the monitors. */
export const OUTAGE_STEPS: readonly OutageStep[] = [
  { name: 'refused', title: '(a) apply bad.yaml', flags: [], exitCode: 1 },
  { name: 'canary', title: '(b) apply --force (canary)', flags: ['--force'], exitCode: 1, event: 'canary.aborted' },
  { name: 'rollback', title: '(c) apply --force --no-canary', flags: ['--force', '--no-canary'], exitCode: 0, event: 'rollback.auto' },
];

/** The reason the outage's change was given. */
export const OUTAGE_REASON = 'routine update: drain web-2, web-3 and web-4';

/** The web pool's weights before (every server 1) and after the outage's change (all but the first 0). */
export function outageWeights(servers: number, drained: boolean): number[] {
  return Array.from({ length: servers }, (_, i) => (drained && i > 0 ? 0 : 1));
}

/** What the scenario's config needs to know. */
export interface ScenarioConfigOptions {
  /** The opening comment lines (without `# `). */
  readonly comment: readonly string[];
  readonly site: number;
  readonly admin: number;
  readonly storePath: string;
  /** The servers, in order; the pools name them `web-1`… and `api-1`…. */
  readonly servers: readonly { readonly address: string }[];
  /** Each server's capacity, requests/s. */
  readonly capacity: number;
  /** guardrails.traffic.peakRps. */
  readonly peakRps: number;
  /** The web pool's weights (outageWeights). */
  readonly weights: readonly number[];
  /** With an `api` route (/api/) and pool over the same servers, least-request, at this peak. */
  readonly apiPeakRps?: number;
  readonly healthCheck: { readonly interval: string; readonly timeout: string };
  readonly canaryDuration: string;
  /** guardrails.rollback.window. */
  readonly window: string;
  /** `engine:` (absent: the config leaves it out). */
  readonly engine?: string;
}

/** The scenario's config text: the site (and its API) over the servers, canary and automatic rollback on. */
export function scenarioConfig(o: ScenarioConfigOptions): string {
  const health = `    healthCheck: { path: /healthz, interval: ${o.healthCheck.interval}, timeout: ${o.healthCheck.timeout} }`;
  const list = (pool: string, weights: readonly number[]) => o.servers.map((s, i) => `      - { name: ${pool}-${i + 1}, address: ${s.address}, weight: ${weights[i] ?? 1} }`).join('\n');
  const api = o.apiPeakRps !== undefined;
  return `${o.comment.map((c) => `# ${c}\n`).join('')}listeners:
  - name: public
    address: 127.0.0.1:${o.site}
${api ? '    routes:\n      - { name: api, match: { pathPrefix: /api/ }, pool: api }\n      - { name: site, match: { pathPrefix: / }, pool: web }' : '    routes: [{ name: site, pool: web }]'}
pools:
  web:
    capacity: ${o.capacity}
    backends:
${list('web', o.weights)}
${health}
${api ? `  api:\n    algorithm: least-request\n    capacity: ${o.capacity}\n    backends:\n${list('api', [])}\n${health}\n` : ''}guardrails:
  traffic: { peakRps: ${o.peakRps}${api ? `, routes: { api: ${o.apiPeakRps} }` : ''} }
  rollout: { canaryPercent: 10, canaryDuration: ${o.canaryDuration}, bakeTime: 5m }
  rollback: { auto: true, window: ${o.window}, errorRate: 0.05 }
admin: { address: 127.0.0.1:${o.admin} }
store: { path: ${o.storePath} }
${o.engine ? `engine: ${o.engine}\n` : ''}`;
}

/** A journal event as the admin API returns it. */
export interface JournalEvent {
  id: number;
  time: string;
  type: string;
  version: number | null;
  data: Record<string, unknown>;
}

/** The journal (since `since`, ISO time) from the admin API at `adminUrl`; throws when it does not answer 200. */
export async function readJournal(adminUrl: string, token: string, since?: string): Promise<JournalEvent[]> {
  const res = await fetch(`${adminUrl.replace(/\/$/, '')}/api/v1/events${since ? `?since=${encodeURIComponent(since)}` : ''}`, { headers: { authorization: `Bearer ${token}` } });
  if (!res.ok) throw new Error(`GET /api/v1/events: HTTP ${res.status}`);
  return ((await res.json()) as { events: JournalEvent[] }).events;
}
