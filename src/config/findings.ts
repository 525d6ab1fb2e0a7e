/**
 * The finding catalogue: every code validate/plan/apply can report, its severity and a title.
 * Codes are stable and never reused (a retired code stays here, marked retired).
 * docs/rules.md has one section per code; test/rules-doc.test.ts keeps the two in step.
 */

export type Severity = 'error' | 'warning' | 'info';

/**
 * How findings name a pool and its backends in the file they came from: an evenkeel config
 * has pools of backends; a haproxy.cfg has backends of servers; an nginx.conf has upstreams of
 * servers, which are named by their address. The rules word their messages with it.
 */
export interface Vocabulary {
  readonly pool: string;
  readonly backend: string;
  /** Said before a backend's name ('' in evenkeel: "goes to web-1 (10.0.0.1:80)"). */
  readonly lead: string;
  /** A backend's name is its address (NGINX): it is said once. */
  readonly nameIsAddress: boolean;
  /** One and several backends that serve nothing for their weight (HAProxy: or disabled; NGINX: down). */
  readonly weightZero: readonly [one: string, many: string];
}

/** evenkeel's own words. */
export const EVENKEEL_WORDS: Vocabulary = { pool: 'pool', backend: 'backend', lead: '', nameIsAddress: false, weightZero: ['has weight 0', 'have weight 0'] };

/** A backend as a sentence names it: `web-1 (10.0.0.1:80)`, or its address when that is its name. */
export function backendLabel(words: Vocabulary, b: { name: string; address: string }): string {
  return words.nameIsAddress || b.name === b.address ? b.address : `${b.name} (${b.address})`;
}

/** What a finding is about, named the way an operator names it. */
export interface Subject {
  listener?: string;
  route?: string;
  pool?: string;
  backend?: string;
  address?: string;
}

/** One problem (or observation) about a config, with where it is and how to fix it. */
export interface Finding {
  code: Code;
  severity: Severity;
  message: string;
  subject: Subject;
  /** Path into the YAML document, e.g. ["pools","web","backends",0]. */
  path: (string | number)[];
  line?: number;
  column?: number;
  /** The file the line/column refer to when it is not the config itself (a traffic sample). */
  file?: string;
  hint: string;
}

/** code → default severity and a short title (the heading in docs/rules.md). */
export const CODES = {
  // EK1xx structure and references
  EK100: { severity: 'error', title: 'The file is not readable YAML' },
  EK101: { severity: 'error', title: 'A value has the wrong type or is out of range' },
  EK102: { severity: 'error', title: 'Unknown key' },
  EK103: { severity: 'error', title: 'Duplicate key in a mapping' },
  EK104: { severity: 'error', title: 'Duplicate name' },
  EK105: { severity: 'error', title: 'Reference to an unknown pool' },
  EK106: { severity: 'error', title: 'Empty pool' },
  EK107: { severity: 'error', title: 'Every backend of a pool has weight 0' },
  EK108: { severity: 'error', title: 'Split weights sum to zero' },
  EK109: { severity: 'warning', title: 'Shadowed route: an earlier route matches everything it matches' },
  EK110: { severity: 'error', title: 'Two listeners on one address' },
  EK111: { severity: 'error', title: 'The same address twice in one pool' },
  EK112: { severity: 'info', title: 'A backend address shared by several pools' },
  EK113: { severity: 'error', title: 'consistent-hash without hashOn' },
  EK114: { severity: 'warning', title: 'Pool not used by any listener' },
  EK115: { severity: 'error', title: 'Listener shape does not fit its protocol' },
  EK116: { severity: 'error', title: 'Route needs exactly one of pool or split' },
  EK117: { severity: 'warning', title: 'hashOn set on a pool that does not hash' },
  EK118: { severity: 'error', title: 'Admin API on a non-loopback address without a token' },
  EK119: { severity: 'error', title: 'Traffic sample cannot be used' },
  EK120: { severity: 'warning', title: 'guardrails.traffic.routes names an unknown route' },
  EK121: { severity: 'error', title: 'A TLS certificate or key file cannot be loaded' },
  EK122: { severity: 'error', title: 'A TLS key does not match its certificate' },
  EK123: { severity: 'error', title: 'A TLS certificate has expired or is not yet valid' },
  EK124: { severity: 'warning', title: 'A TLS certificate expires within 14 days' },
  EK125: { severity: 'warning', title: "A route's host is not covered by its listener's certificates" },
  // EK2xx traffic and capacity
  EK200: { severity: 'info', title: 'No traffic model: capacity checks skipped' },
  EK201: { severity: 'error', title: 'Predicted share above maxBackendShare' },
  EK202: { severity: 'error', title: 'Predicted load above capacity less headroom' },
  EK203: { severity: 'error', title: "A pool's capacity is below its traffic" },
  EK204: { severity: 'error', title: 'Capacity does not hold under tolerateFailures' },
  EK205: { severity: 'warning', title: 'Hash key concentration in the traffic sample' },
  EK206: { severity: 'info', title: 'consistent-hash predicted without a sample' },
  EK207: { severity: 'warning', title: 'Per-route peaks exceed peakRps' },
  EK208: { severity: 'warning', title: 'Hash key missing from most sampled requests' },
  EK209: { severity: 'error', title: 'All traffic of a multi-backend pool goes to one backend' },
  EK210: { severity: 'info', title: 'Backends without a declared capacity' },
  EK211: { severity: 'warning', title: 'Sampled requests that no route matches' },
  EK212: { severity: 'warning', title: 'A rate limit refuses a share of the predicted peak' },
  // EK3xx health checking
  EK301: { severity: 'error', title: 'Health-check timeout not shorter than its interval' },
  EK302: { severity: 'warning', title: 'unhealthyThreshold of 1' },
  EK303: { severity: 'info', title: 'No active health check in a pool of several backends' },
  EK304: { severity: 'warning', title: 'Outlier detection may eject every backend' },
  // EK4xx change rules (need a previous version)
  EK401: { severity: 'error', title: 'One change moves more traffic than maxShift' },
  EK402: { severity: 'warning', title: 'Capacity removed' },
  EK403: { severity: 'error', title: 'Pool removed while it carried traffic' },
  EK404: { severity: 'error', title: 'Route removed while it carried traffic' },
  // EK5xx foreign configs (haproxy.cfg EK500–EK524 and EK550–EK559, nginx.conf EK525–EK549)
  EK500: { severity: 'error', title: 'The haproxy.cfg is not text evenkeel can read' },
  EK501: { severity: 'error', title: 'A haproxy.cfg line evenkeel cannot parse' },
  EK502: { severity: 'info', title: 'HAProxy construct not modelled: the prediction is partial' },
  EK503: { severity: 'error', title: 'balance first without maxconn sends everything to the first server' },
  EK504: { severity: 'info', title: 'balance first with maxconn fills servers in order' },
  EK505: { severity: 'info', title: 'leastconn predicted as weight-proportional' },
  EK506: { severity: 'info', title: 'HAProxy hashing predicted with evenkeel\'s hash' },
  EK507: { severity: 'info', title: 'Hash key evenkeel cannot model: predicted as round-robin' },
  EK508: { severity: 'error', title: 'A random routing condition that is always true' },
  EK509: { severity: 'warning', title: 'A random routing condition that is never true' },
  EK510: { severity: 'info', title: 'Without option allbackups only the first backup serves' },
  EK511: { severity: 'error', title: 'haproxy -c rejects the config' },
  EK512: { severity: 'warning', title: 'haproxy -c warns about the config' },
  EK513: { severity: 'error', title: 'No frontend or listen section with a bind' },
  // EK525–EK549 nginx.conf
  EK525: { severity: 'error', title: 'nginx.conf syntax error' },
  EK526: { severity: 'error', title: 'The nginx.conf is not text or is too large' },
  EK527: { severity: 'error', title: 'An nginx include that loops or leaves the config folder' },
  EK528: { severity: 'warning', title: 'An nginx include that cannot be read' },
  EK529: { severity: 'info', title: 'An nginx construct evenkeel does not model: the prediction is partial' },
  EK530: { severity: 'info', title: 'least_conn or random two predicted weight-proportional' },
  EK531: { severity: 'warning', title: 'The same server twice in one upstream' },
  EK532: { severity: 'error', title: 'Every request has the same hash key: one server gets everything' },
  EK533: { severity: 'error', title: 'A directive or parameter nginx refuses' },
  EK534: { severity: 'warning', title: 'proxy_pass names a host that is no upstream' },
  EK535: { severity: 'warning', title: 'Nothing in the nginx.conf proxies to an upstream' },
  EK536: { severity: 'warning', title: 'An evenkeel comment that cannot be read' },
  EK537: { severity: 'error', title: 'An nginx value evenkeel cannot represent' },
  EK550: { severity: 'warning', title: 'Active/standby pool: one primary, the rest backups' },
} as const satisfies Record<string, { severity: Severity; title: string }>;

export type Code = keyof typeof CODES;

/** Builds a finding with the catalogue's severity; line/column are filled in later from the path. */
export function finding(code: Code, f: { message: string; hint: string; path: (string | number)[]; subject?: Subject; severity?: Severity }): Finding {
  return { code, severity: f.severity ?? CODES[code].severity, message: f.message, subject: f.subject ?? {}, path: f.path, hint: f.hint };
}

/** Errors first, then warnings, then info; within a severity, by line. */
export function sortFindings(list: Finding[]): Finding[] {
  const rank = { error: 0, warning: 1, info: 2 } as const;
  return [...list].sort((a, b) => rank[a.severity] - rank[b.severity] || (a.line ?? 0) - (b.line ?? 0) || a.code.localeCompare(b.code));
}
