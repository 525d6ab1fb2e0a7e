/**
 * The finding catalogue: every code validate/plan/apply can report, its severity and a title.
 * Codes are stable and never reused (a retired code stays here, marked retired).
 * docs/rules.md has one section per code; test/rules-doc.test.ts keeps the two in step.
 */

export type Severity = 'error' | 'warning' | 'info';

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
