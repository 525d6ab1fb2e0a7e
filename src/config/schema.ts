/**
 * The config contract of DESIGN.md as a zod schema: shape, types and defaults only.
 * Cross-references (unknown pool, duplicate names, …) are rules in analysis/, so they get
 * stable codes and hints. Types are inferred from here and never written twice.
 */
import { z } from 'zod';
import { DURATION_PATTERN, parseDuration } from '../core/index.js';
import { parseAddress } from '../core/index.js';

/** A duration string (`500ms`, `2s`, `5m`) parsed to milliseconds. */
const duration = z
  .string()
  .regex(DURATION_PATTERN, { message: 'expected a duration such as 500ms, 2s or 5m' })
  .transform((s) => parseDuration(s));

/** `host:port`. */
const address = z.string().superRefine((s, ctx) => {
  try {
    parseAddress(s);
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: (err as Error).message });
  }
});

const name = z
  .string()
  .min(1, { message: 'a name cannot be empty' })
  .max(128)
  .regex(/^[A-Za-z0-9][A-Za-z0-9._\-]*$/, { message: 'names use letters, digits, ".", "_" and "-", starting with a letter or digit' });

const weight = z.number().min(0, { message: 'weights are >= 0 (0 drains the backend)' });
const rps = z.number().positive({ message: 'requests/s must be > 0' });
const share = z.number().min(0).max(1);

export const HTTP_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'CONNECT', 'TRACE'] as const;

const match = z.strictObject({
  host: z.string().min(1).regex(/^(\*\.)?[A-Za-z0-9.\-]+$/, { message: 'expected a host name, or *.example.com' }).optional(),
  pathPrefix: z.string().startsWith('/', { message: 'pathPrefix starts with /' }).optional(),
  methods: z.array(z.enum(HTTP_METHODS)).min(1).optional(),
  headers: z.record(z.string().min(1), z.string()).optional(),
});

const splitEntry = z.strictObject({ pool: name, weight });

/** A header name (RFC 9110 §5.1 token). */
const HEADER_TOKEN = "[A-Za-z0-9!#$%&'*+.^_`|~\\-]+";

/**
 * A token bucket per key and per process: `rps` refill, `burst` deep. Requests past it get 429
 * with Retry-After. `header:NAME` limits by that header's value, falling back to the client's
 * address when the request does not carry it.
 */
const rateLimit = z.strictObject({
  rps,
  burst: z.number().int().min(1).optional(),
  key: z.string().regex(new RegExp(`^(client-ip|header:${HEADER_TOKEN})$`), { message: 'expected client-ip or header:NAME' }).default('client-ip'),
});

const route = z.strictObject({
  name,
  match: match.optional(),
  pool: name.optional(),
  split: z.array(splitEntry).min(1).optional(),
  rateLimit: rateLimit.optional(),
});

/**
 * Per-listener hard limits and client-side timeouts (data plane). Every key has a safe default,
 * so `limits:` may be left out. Header limits are answered with 431, the body limit with 413.
 */
const limits = z.strictObject({
  maxHeaderBytes: z.number().int().min(1024).max(1048576).default(16384),
  maxHeaderCount: z.number().int().min(1).max(1000).default(100),
  maxBodyBytes: z.number().int().min(0).default(10 * 1048576),
  headersTimeout: duration.prefault('10s'),
  requestTimeout: duration.prefault('60s'),
  keepAliveTimeout: duration.prefault('5s'),
  /** WebSocket tunnels open at once on this listener (per process); past it an upgrade gets 503. */
  maxTunnels: z.number().int().min(0).default(10000),
  /** A WebSocket tunnel with no byte either way for this long is closed. */
  tunnelIdleTimeout: duration.prefault('10m'),
  /** HTTP/2 (TLS listeners): streams open at once on one connection (SETTINGS_MAX_CONCURRENT_STREAMS). */
  maxConcurrentStreams: z.number().int().min(1).max(1000).default(100),
});

/**
 * TLS termination: the listener speaks HTTPS, HTTP/2 and HTTP/1.1 by ALPN. The certificate is
 * chosen by SNI from the names it covers; the first is the default.
 */
const tls = z.strictObject({
  certificates: z.array(z.strictObject({ cert: z.string().min(1), key: z.string().min(1) })).min(1),
  minVersion: z.enum(['TLSv1.2', 'TLSv1.3']).default('TLSv1.2'),
});

/**
 * One line per request, written by a subscriber of the request channel through pino's
 * asynchronous destination. Exactly one of `path` and `stdout`.
 */
const accessLog = z
  .strictObject({
    path: z.string().min(1).optional(),
    stdout: z.literal(true).optional(),
    format: z.enum(['json', 'combined']).default('json'),
    sample: z.number().gt(0, { message: 'sample is a fraction above 0 (1 = every request)' }).max(1).default(1),
  })
  .refine((a) => (a.path === undefined) !== (a.stdout === undefined), { message: 'an access log goes to a file (path: FILE) or to standard output (stdout: true), one of them' });

const listener = z.strictObject({
  name,
  address,
  protocol: z.enum(['http', 'tcp']).default('http'),
  routes: z.array(route).optional(),
  pool: name.optional(),
  limits: limits.prefault({}),
  tls: tls.optional(),
  accessLog: accessLog.optional(),
});

const backend = z.strictObject({
  name: name.optional(),
  address,
  weight: weight.default(1),
  capacity: rps.optional(),
  maxConnections: z.number().int().positive().optional(),
  /** A standby (HAProxy `backup`, NGINX `backup`): serves only while no primary of its pool is usable. */
  backup: z.boolean().default(false),
});

/** `200`, `200-399`, or a comma list of either. */
const statusRanges = z
  .union([z.number().int(), z.string()])
  .transform((v) => String(v))
  .pipe(z.string().regex(/^\s*[1-5]\d\d(\s*-\s*[1-5]\d\d)?(\s*,\s*[1-5]\d\d(\s*-\s*[1-5]\d\d)?)*\s*$/, { message: 'expected a status or range such as 200 or 200-399' }));

const healthCheck = z.strictObject({
  path: z.string().startsWith('/').default('/healthz'),
  interval: duration.prefault('2s'),
  timeout: duration.prefault('1s'),
  healthyThreshold: z.number().int().min(1).default(2),
  unhealthyThreshold: z.number().int().min(1).default(3),
  expectStatus: statusRanges.prefault('200-399'),
});

const outlierDetection = z.strictObject({
  consecutiveFailures: z.number().int().min(1).default(5),
  baseEjectionTime: duration.prefault('30s'),
  maxEjectionPercent: z.number().min(0).max(100).default(50),
});

/** Outlier detection for a pool that sets none (passive checks are always on): the schema's defaults. */
export const OUTLIER_DEFAULTS: Readonly<z.output<typeof outlierDetection>> = Object.freeze(outlierDetection.parse({}));

const timeouts = z.strictObject({
  connect: duration.prefault('2s'),
  request: duration.prefault('30s'),
  idle: duration.prefault('60s'),
});

export const RETRY_ON = ['connect-failure', 'reset', '502', '503', '504'] as const;
const retries = z.strictObject({
  attempts: z.number().int().min(0).max(10).default(1),
  on: z.array(z.union([z.enum(RETRY_ON), z.number().int().transform(String).pipe(z.enum(RETRY_ON))])).default([...RETRY_ON]),
  budgetPercent: z.number().min(0).max(100).default(20),
});

export const ALGORITHMS = ['round-robin', 'least-request', 'random', 'consistent-hash'] as const;

const pool = z.strictObject({
  algorithm: z.enum(ALGORITHMS).default('round-robin'),
  hashOn: z
    .string()
    .regex(/^(header:[A-Za-z0-9!#$%&'*+.^_`|~\-]+|cookie:[A-Za-z0-9!#$%&'*+.^_`|~\-]+|client-ip|path)$/, {
      message: 'expected header:NAME, cookie:NAME, client-ip or path',
    })
    .optional(),
  capacity: rps.optional(),
  backends: z.array(backend),
  healthCheck: healthCheck.optional(),
  outlierDetection: outlierDetection.optional(),
  timeouts: timeouts.prefault({}),
  retries: retries.prefault({}),
  slowStart: duration.optional(),
  /** Sticky sessions by cookie insertion: the cookie names the backend, signed so a client cannot choose one. */
  stickiness: z.strictObject({
    cookie: z.string().regex(/^[A-Za-z0-9!#$%&'*+.^_`|~\-]+$/, { message: 'expected a cookie name (letters, digits, and !#$%&\'*+.^_`|~-)' }),
    ttl: duration.optional(),
  }).optional(),
});

const traffic = z.strictObject({
  peakRps: rps.optional(),
  routes: z.record(z.string(), rps).optional(),
  sample: z.string().min(1).optional(),
});

const guardrails = z.strictObject({
  traffic: traffic.optional(),
  maxBackendShare: share.default(0.5),
  headroom: z.number().min(0).max(0.95).default(0.2),
  tolerateFailures: z.number().int().min(0).default(0),
  maxShift: share.default(0.5),
  rollout: z
    .strictObject({
      canaryPercent: z.number().min(0).max(100).default(10),
      canaryDuration: duration.prefault('30s'),
      /** How long a canary may run on while a pool the change touches has too few requests to judge [3 × canaryDuration]. */
      canaryMaxDuration: duration.optional(),
      /** Then: promote on the weights and validation alone (said in the verdict), or abort [promote]. */
      tooFewRequests: z.enum(['promote', 'abort']).default('promote'),
      bakeTime: duration.prefault('5m'),
    })
    .prefault({}),
  rollback: z
    .strictObject({
      auto: z.boolean().default(true),
      window: duration.prefault('20s'),
      errorRate: share.default(0.05),
      skew: share.default(0.15),
      latencyP99: duration.optional(),
    })
    .prefault({}),
});

const webhook = z.strictObject({
  url: z.url({ protocol: /^https?$/, message: 'expected an http(s) URL' }),
  format: z.enum(['json', 'slack', 'alertmanager']).default('json'),
});

export const ENGINES = ['builtin', 'haproxy'] as const;

/**
 * Which data plane serves: evenkeel's own (`builtin`) or HAProxy, which evenkeel supervises,
 * renders each version for, and watches (`haproxy`, or `{ type: haproxy, binary, runDir }`).
 */
const engine = z
  .union([
    z.enum(ENGINES).transform((type) => ({ type })),
    z.strictObject({ type: z.enum(ENGINES), binary: z.string().min(1).optional(), runDir: z.string().min(1).optional() }),
  ])
  .prefault('builtin');

/** The whole config file. */
export const configSchema = z.strictObject({
  listeners: z.array(listener).min(1, { message: 'at least one listener is needed' }),
  pools: z.record(name, pool),
  guardrails: guardrails.prefault({}),
  alerts: z.strictObject({ webhooks: z.array(webhook).default([]) }).prefault({}),
  admin: z.strictObject({
    address: address.default('127.0.0.1:9901'),
    tokenFile: z.string().min(1).optional(),
    allowedHosts: z.array(z.string().min(1).regex(/^[A-Za-z0-9.\-]+$/, { message: 'expected a host name such as lb1.internal' })).optional(),
  }).prefault({}),
  store: z.strictObject({ path: z.string().min(1).default('./.evenkeel') }).prefault({}),
  workers: z.union([z.number().int().min(1).max(64), z.literal('auto')]).default(1),
  engine,
});

/** A validated config with defaults applied and durations in milliseconds. */
export type Config = z.output<typeof configSchema>;
/** The config as written in YAML. */
export type ConfigInput = z.input<typeof configSchema>;
export type Listener = Config['listeners'][number];
export type Route = NonNullable<Listener['routes']>[number];
/** A listener's limits with defaults applied (milliseconds for timeouts). */
export type ListenerLimits = Listener['limits'];
export type RouteMatch = NonNullable<Route['match']>;
export type Pool = Config['pools'][string];
export type Backend = Pool['backends'][number];
export type HealthCheck = NonNullable<Pool['healthCheck']>;
export type Guardrails = Config['guardrails'];
export type Algorithm = (typeof ALGORITHMS)[number];
/** The `engine:` setting, normalised to an object. */
export type EngineSetting = Config['engine'];
export type RateLimit = NonNullable<Route['rateLimit']>;
export type AccessLog = NonNullable<Listener['accessLog']>;
export type Stickiness = NonNullable<Pool['stickiness']>;
