/**
 * `evenkeel export haproxy`: an evenkeel config rendered as an equivalent haproxy.cfg.
 * Listeners become frontends, routes ACLs and `use_backend` rules in order, splits a random
 * draw cut by the split weights, pools backends with the matching `balance`. What HAProxy
 * cannot say exactly is written as a `# not exact:` comment where it applies and returned as
 * a note (the CLI prints notes on stderr): nothing is dropped silently. Pure: no I/O.
 *
 * The HAProxy engine (engines/haproxy) renders every version with the same function, adding
 * its runtime sections: the stats socket, and a config canary's backends beside the active ones.
 */
import type { Config, Listener } from '../../config/index.js';
import { addressKey, parseAddress } from '../../core/index.js';
import { renderBackend } from './render/backend.js';
import { NO_ROUTE, NO_TARGET, renderFrontend } from './render/frontend.js';
import { Notes, type ExportNote } from './render/notes.js';
import { rateTable } from './render/rate-limit.js';
import type { PemFor } from './render/tls.js';
import { arg, haAddress, haName } from './render/text.js';

export type { ExportNote } from './render/notes.js';
export { DRAW_RANGE, NO_ROUTE, NO_TARGET } from './render/frontend.js';

/** The prefix of a canary candidate's backends (`canary:web`); pool names cannot hold `:`. */
export const CANARY_PREFIX = 'canary:';

/** What an engine adds to the export. */
export interface EngineSections {
  /** Stats socket path (level admin). */
  readonly statsSocket: string;
  /** The canary map file (key `canary`, value: millionths of requests for the candidate). */
  readonly mapFile: string;
  /** The candidate config of a running canary (same listeners as the active one). */
  readonly canary?: Config;
  /** The port to bind for a listener (the engine picks one when the config says 0). */
  readonly portFor?: (listener: Listener) => number;
  /**
   * `server-state-file`: servers' health, drain and runtime weights saved before a reload and
   * restored by the new worker (a weight the new config changes wins, configuration.txt
   * `load-server-state-from-file`).
   */
  readonly serverStateFile?: string;
  /** `nbthread` (evenkeel's `workers:`); HAProxy's default, one per core, when absent. */
  readonly threads?: number;
  /** `hard-stop-after`: how long an old worker may keep serving after a reload. */
  readonly hardStopAfter?: string;
  /**
   * The PEM file (certificate and key in one) HAProxy loads for a listener's certificate; the
   * engine writes it into its run folder. Without it the export names the certificate file
   * and says where HAProxy looks for the key (render/tls.ts).
   */
  readonly pemFor?: PemFor;
}

/** Options of `renderHaproxy`. */
export interface RenderOptions {
  /** Named in the file's first comment. */
  readonly source?: string;
  readonly engine?: EngineSections;
}

/** The rendered file and what it could not say exactly. */
export interface HaproxyExport {
  readonly text: string;
  readonly notes: readonly ExportNote[];
}

/** Renders `config` as haproxy.cfg text (see the module comment). */
export function renderHaproxy(config: Config, options: RenderOptions = {}): HaproxyExport {
  const notes = new Notes();
  const engine = options.engine;
  const out: string[] = [`# haproxy.cfg rendered by evenkeel${options.source ? ` from ${options.source}` : ''}`];
  out.push('# guardrails, rollout, rollback, alerts, admin and store are evenkeel\'s own: they stay in evenkeel and have no haproxy.cfg form.', '');
  out.push(...globalSection(config, notes, engine), '', ...defaultsSection(engine?.serverStateFile !== undefined), '');
  const modes = poolModes(config);
  for (const l of config.listeners) {
    const candidate = engine?.canary?.listeners.find((c) => c.protocol === l.protocol && addressKey(c.address) === addressKey(l.address));
    const { host, port } = parseAddress(l.address);
    out.push(...renderFrontend(l, {
      bind: haAddress(host, engine?.portFor?.(l) ?? port),
      pemFor: engine?.pemFor,
      backendFor: (pool) => backendName(pool, '', modes, l.protocol === 'tcp'),
      canary: candidate && engine ? { listener: candidate, mapFile: engine.mapFile, backendFor: (pool) => backendName(pool, CANARY_PREFIX, poolModes(engine.canary!), l.protocol === 'tcp') } : undefined,
    }, notes), '');
  }
  out.push(...backends(config, '', modes, notes));
  if (engine?.canary) out.push(...backends(engine.canary, CANARY_PREFIX, poolModes(engine.canary), notes));
  for (const l of config.listeners) for (const r of l.routes ?? []) if (r.rateLimit) out.push(...rateTable(l.name, r), '');
  out.push(`backend ${NO_ROUTE}`, '  mode http', '  # no route matched: 404, as evenkeel answers', '  http-request return status 404 content-type text/plain string "no route\\n"', '');
  if (out.some((l) => l.startsWith(`  use_backend ${NO_TARGET}`))) out.push(`backend ${NO_TARGET}`, '  mode http', '  # a route whose split weights are all 0: 503, as evenkeel answers', '  http-request return status 503 content-type text/plain string "no usable backend\\n"', '');
  return { text: out.join('\n'), notes: notes.list };
}

function globalSection(config: Config, notes: Notes, engine: EngineSections | undefined): string[] {
  const lines = ['global'];
  const http = config.listeners.filter((l) => l.protocol === 'http');
  const maxHeader = Math.max(16384, ...http.map((l) => l.limits.maxHeaderBytes));
  const maxCount = Math.max(0, ...http.map((l) => l.limits.maxHeaderCount));
  // HAProxy's header limits are global: the largest of the listeners', and said so when they differ.
  // HAProxy keeps tune.maxrewrite of each buffer for header rewrites: the head may use the rest.
  lines.push(`  tune.bufsize ${maxHeader + 1024}`, '  tune.maxrewrite 1024');
  if (maxCount > 0) lines.push(`  tune.http.maxhdr ${maxCount}`);
  if (new Set(http.map((l) => `${l.limits.maxHeaderBytes}/${l.limits.maxHeaderCount}`)).size > 1) lines.push(notes.add('global', 'listeners declare different header limits; HAProxy has one global limit, the largest is used'));
  if (http.length > 0) lines.push(notes.add('global', 'header limits: HAProxy answers 400 where evenkeel answers 431, and its limit covers the whole request head plus a buffer reserve'));
  if (engine) {
    lines.push(`  stats socket ${arg(engine.statsSocket)} level admin expose-fd listeners`, `  hard-stop-after ${engine.hardStopAfter ?? '30s'}`);
    if (engine.threads) lines.push(`  nbthread ${engine.threads}`);
    if (engine.serverStateFile) lines.push(`  server-state-file ${arg(engine.serverStateFile)}`);
  }
  return lines;
}

function defaultsSection(serverState: boolean): string[] {
  return [
    'defaults',
    '  mode http',
    ...(serverState ? ['  load-server-state-from-file global'] : []),
    // Measured: 39 resets in 83k keep-alive requests over 5 reloads without it, 0 with it.
    // An old worker answers its idle keep-alive clients with "Connection: close" instead of
    // closing the socket under a request that may already be on its way.
    '  option idle-close-on-response',
    '  option http-keep-alive',
    '  timeout connect 2s',
    '  timeout client 60s',
    '  timeout server 30s',
  ];
}

/** Each pool's mode: tcp when only tcp listeners use it. */
function poolModes(config: Config): Map<string, 'http' | 'tcp'> {
  const http = new Set<string>();
  const tcp = new Set<string>();
  for (const l of config.listeners) {
    if (l.protocol === 'tcp' && l.pool) tcp.add(l.pool);
    for (const r of l.routes ?? []) {
      if (r.pool) http.add(r.pool);
      for (const s of r.split ?? []) http.add(s.pool);
    }
  }
  const modes = new Map<string, 'http' | 'tcp'>();
  for (const name of Object.keys(config.pools)) modes.set(name, tcp.has(name) && !http.has(name) ? 'tcp' : 'http');
  // A pool both kinds use is rendered twice; the tcp copy is `tcp:POOL`.
  for (const name of tcp) if (http.has(name)) modes.set(`tcp:${name}`, 'tcp');
  return modes;
}

function backendName(pool: string, prefix: string, modes: Map<string, 'http' | 'tcp'>, tcp = false): string {
  return `${prefix}${tcp && modes.has(`tcp:${pool}`) ? 'tcp:' : ''}${haName(pool)}`;
}

/** Whether the http listeners routing to each pool terminate TLS: all of them, none, or some. */
function poolTls(config: Config): Map<string, 'all' | 'none' | 'some'> {
  const seen = new Map<string, Set<boolean>>();
  for (const l of config.listeners) {
    if (l.protocol !== 'http') continue;
    for (const r of l.routes ?? []) {
      for (const pool of [r.pool, ...(r.split ?? []).map((s) => s.pool)]) {
        if (pool === undefined) continue;
        const set = seen.get(pool) ?? new Set<boolean>();
        set.add(l.tls !== undefined);
        seen.set(pool, set);
      }
    }
  }
  return new Map([...seen].map(([pool, set]) => [pool, set.size > 1 ? 'some' : set.has(true) ? 'all' : 'none']));
}

function backends(config: Config, prefix: string, modes: Map<string, 'http' | 'tcp'>, notes: Notes): string[] {
  const out: string[] = [];
  const tls = poolTls(config);
  for (const [name, pool] of Object.entries(config.pools)) {
    out.push(...renderBackend(pool, { name: `${prefix}${haName(name)}`, mode: modes.get(name) ?? 'http', tls: tls.get(name), pool: name }, notes), '');
    if (modes.has(`tcp:${name}`)) out.push(...renderBackend(pool, { name: `${prefix}tcp:${haName(name)}`, mode: 'tcp' }, notes), '');
  }
  return out;
}
