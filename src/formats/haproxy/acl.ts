/**
 * HAProxy ACLs and `use_backend … if|unless COND` → evenkeel routes.
 *
 * An ACL becomes a disjunction of evenkeel matches (`hdr(host) -i a b` is host a OR host b);
 * a condition is an OR (`||`, `or`) of AND-terms of possibly negated ACLs. The rule list is
 * compiled from the last rule up into an ordered list of (match → pools) entries, the same
 * first-match-wins shape evenkeel's routes have: a rule `if P` puts its entries in front; a
 * negation `if P !N` first lets the requests in P∧N escape to the rules below it (each of
 * their entries narrowed by P∧N), then sends the rest of P to the rule's backend; `rand(n)`
 * becomes a weighted split with whatever the rules below would do. What cannot be expressed
 * is reported (a partial prediction), never guessed silently.
 */
import { HTTP_METHODS, type RouteMatch } from '../../config/index.js';
import type { Word } from './lexer.js';

/** What one ACL can mean to the model. */
export type Atom =
  | { kind: 'alts'; alts: RouteMatch[]; notes: string[] }
  | { kind: 'always' }
  | { kind: 'never' }
  | { kind: 'rand'; p: number; text: string }
  | { kind: 'unknown'; why: string };

/** One ACL reference in a condition, maybe negated. */
export interface Literal {
  atom: Atom;
  neg: boolean;
  word: Word;
}

/** A condition: OR of AND-terms. */
export type Cond = Literal[][];

/** A pool and its share weight in an entry. */
export interface Target {
  pool: string;
  weight: number;
}

/** One compiled route: where its rule is written and what it sends where. */
export interface Entry {
  match: RouteMatch;
  targets: Target[];
  /** The use_backend / default_backend keyword and the backend name word. */
  at: Word;
  poolAt: Word;
  /** Rules below whose traffic a random split mixed into this entry (they are not shadowed). */
  mixed?: Word[];
}

/** A rule as read: its backend, its condition (undefined: unconditional). */
export interface Rule {
  backend: string;
  at: Word;
  poolAt: Word;
  cond?: Cond;
}

/** Reports a finding from compilation. */
export type Report = (code: 'EK109' | 'EK502' | 'EK508' | 'EK509', word: Word, message: string) => void;

/** Entries per listener beyond which the compilation stops (and says so). */
export const MAX_ENTRIES = 5000;

const PREDEFINED: Record<string, Atom> = {
  TRUE: { kind: 'always' },
  FALSE: { kind: 'never' },
  HTTP: { kind: 'always' },
  METH_GET: { kind: 'alts', alts: [{ methods: ['GET', 'HEAD'] }], notes: [] },
  METH_POST: { kind: 'alts', alts: [{ methods: ['POST'] }], notes: [] },
  METH_PUT: { kind: 'alts', alts: [{ methods: ['PUT'] }], notes: [] },
  METH_DELETE: { kind: 'alts', alts: [{ methods: ['DELETE'] }], notes: [] },
  METH_OPTIONS: { kind: 'alts', alts: [{ methods: ['OPTIONS'] }], notes: [] },
  METH_HEAD: { kind: 'alts', alts: [{ methods: ['HEAD'] }], notes: [] },
  METH_CONNECT: { kind: 'alts', alts: [{ methods: ['CONNECT'] }], notes: [] },
  METH_TRACE: { kind: 'alts', alts: [{ methods: ['TRACE'] }], notes: [] },
};

const HOST_VALUE = /^[A-Za-z0-9.\-]+$/;
const FETCH_METHOD: Record<string, string> = { _beg: 'beg', _end: 'end', _dom: 'dom', _reg: 'reg', _sub: 'sub', _dir: 'dir', _len: 'len', _cnt: 'cnt', _found: 'found', _ip: 'ip', _val: 'int' };

/**
 * The meaning of one ACL body: `criterion [flags] [values]`, e.g. `hdr(host) -i api.example.com`,
 * `path_beg /api/`, `{ rand(100) lt 5 }`.
 */
export function parseAclBody(words: string[]): Atom {
  if (words.length === 0) return { kind: 'unknown', why: 'an empty ACL' };
  const crit = words[0];
  let method: string | undefined;
  let ignoreCase = false;
  let i = 1;
  for (; i < words.length; i++) {
    const w = words[i];
    if (w === '--') { i++; break; }
    if (w === '-i') ignoreCase = true;
    else if (w === '-m') method = words[++i];
    else if (w === '-f' || w === '-M') return { kind: 'unknown', why: `${crit} with patterns from a file (${w})` };
    else if (w === '-n' || w === '-u') { /* no effect on matching */ }
    else break;
  }
  const values = words.slice(i);
  const m = /^([a-z0-9_.]+?)(_beg|_end|_dom|_reg|_sub|_dir|_len|_cnt|_found|_ip|_val)?(?:\(([^)]*)\))?((?:,[a-z0-9_]+(?:\([^)]*\))?)*)$/.exec(crit);
  if (!m) return { kind: 'unknown', why: `the fetch ${crit}` };
  const fetch = m[1].replace(/^req\./, '');
  method ??= m[2] ? FETCH_METHOD[m[2]] : undefined;
  const arg = m[3];
  // `lower` is what -i does; `host_only` drops the port, as evenkeel's host match does, and so
  // does `field(1,:)` on the Host header (what `evenkeel export haproxy` writes: 2.6 has no host_only).
  const onHost = arg?.trim().toLowerCase() === 'host';
  const converters = [...(m[4] ?? '').matchAll(/,([a-z0-9_]+)(\([^)]*\))?/g)].map(([, name, args]) => (name === 'field' && args?.replace(/\s/g, '') === '(1,:)' && onHost ? 'host_only' : args ? `${name}${args}` : name));
  const odd = converters.find((c) => c !== 'lower' && !(c === 'host_only' && onHost));
  if (odd) return { kind: 'unknown', why: `${crit}: the converter ${odd}` };
  if (converters.includes('lower')) ignoreCase = true;

  if (fetch === 'rand') return randAtom(arg, values, words.join(' '));
  if (values.length === 0) return { kind: 'unknown', why: `${crit} without a value to compare with` };
  if (fetch === 'hdr' && arg !== undefined) return headerAtom(arg.split(',')[0].trim().toLowerCase(), method ?? 'str', values, ignoreCase, crit);
  if (fetch === 'path' || fetch === 'url') return pathAtom(fetch, method ?? 'str', values, ignoreCase, crit);
  if (fetch === 'method' && (method ?? 'str') === 'str') {
    const wanted = values.map((v) => v.toUpperCase());
    const known = wanted.filter((v): v is (typeof HTTP_METHODS)[number] => (HTTP_METHODS as readonly string[]).includes(v));
    if (known.length < wanted.length) return { kind: 'unknown', why: `method ${wanted.filter((v) => !known.includes(v as never)).join(' ')}` };
    return { kind: 'alts', alts: [{ methods: [...new Set(known)] }], notes: [] };
  }
  return { kind: 'unknown', why: `the fetch ${crit}${method ? ` -m ${method}` : ''}` };
}

function headerAtom(name: string, method: string, values: string[], ignoreCase: boolean, crit: string): Atom {
  const notes: string[] = [];
  if (name === 'host') {
    const hosts = values.map((v) => v.toLowerCase());
    if (hosts.some((h) => !HOST_VALUE.test(h.replace(/^\./, '')))) return { kind: 'unknown', why: `${crit} ${values.join(' ')} (a host with a port or pattern characters)` };
    if (method === 'str') return { kind: 'alts', alts: hosts.map((host) => ({ host })), notes };
    if (method === 'dom') {
      // hdr_dom matches the name and any subdomain (dot-delimited); other dot-delimited
      // positions (example.com.other.org) are not modelled.
      return { kind: 'alts', alts: hosts.flatMap((h) => { const d = h.replace(/^\.+|\.+$/g, ''); return [{ host: d }, { host: `*.${d}` }]; }), notes };
    }
    if (method === 'end' && hosts.every((h) => h.startsWith('.'))) return { kind: 'alts', alts: hosts.map((h) => ({ host: `*${h}` })), notes };
    if (method === 'reg') {
      const lit = values.map((v) => /^\^?((?:[A-Za-z0-9\-]|\\\.)+)\$$/.exec(v)?.[1]?.replace(/\\\./g, '.'));
      if (lit.every((l) => l !== undefined)) return { kind: 'alts', alts: lit.map((host) => ({ host: host!.toLowerCase() })), notes };
    }
    return { kind: 'unknown', why: `${crit} -m ${method} ${values.join(' ')}` };
  }
  if (method !== 'str') return { kind: 'unknown', why: `${crit} -m ${method} on header ${name}` };
  if (!/^[A-Za-z0-9!#$%&'*+.^_`|~\-]+$/.test(name)) return { kind: 'unknown', why: `header name ${name}` };
  if (ignoreCase) notes.push(`${crit} -i compares ${name} ignoring case; evenkeel compares it exactly`);
  return { kind: 'alts', alts: values.map((v) => ({ headers: { [name]: v } })), notes };
}

function pathAtom(fetch: string, method: string, values: string[], ignoreCase: boolean, crit: string): Atom {
  const notes: string[] = [];
  if (ignoreCase) notes.push(`${crit} -i ignores case; evenkeel compares paths exactly`);
  let prefixes: (string | undefined)[];
  if (method === 'beg') prefixes = values;
  else if (method === 'str' && fetch === 'path') {
    prefixes = values;
    notes.push(`${crit} ${values.join(' ')} is an exact path; evenkeel models it as a path prefix, so longer paths that start the same are counted with it`);
  } else if (method === 'reg') prefixes = values.map(regexPrefix);
  else return { kind: 'unknown', why: `${crit}${method !== 'str' ? ` -m ${method}` : ''} ${values.join(' ')}` };
  if (fetch === 'url' && method !== 'beg') return { kind: 'unknown', why: `${crit} ${values.join(' ')} (the whole URL, query string included)` };
  if (prefixes.some((p) => p === undefined || !p.startsWith('/'))) return { kind: 'unknown', why: `${crit}${method === 'reg' ? ' (a regex evenkeel cannot express as a path prefix)' : ''} ${values.join(' ')}` };
  return { kind: 'alts', alts: prefixes.map((pathPrefix) => ({ pathPrefix: pathPrefix! })), notes };
}

/** `^/api/`, `^/api/.*` or `^/v1\.2/` → the literal prefix; undefined for a real regex. */
function regexPrefix(re: string): string | undefined {
  const m = /^\^((?:[A-Za-z0-9/_\-~%]|\\[./\-])*)(?:\.\*)?$/.exec(re);
  return m ? m[1].replace(/\\(.)/g, '$1') : undefined;
}

/** `rand(100) lt 5`: the probability that the test is true. rand(n) draws an integer in [0, n). */
function randAtom(arg: string | undefined, values: string[], text: string): Atom {
  const n = arg === undefined || arg === '' ? 2 ** 32 : Number(arg);
  const vals = values.filter((v) => v !== '-m' && v !== 'int');
  const [op, vText] = vals.length === 1 ? ['eq', vals[0]] : vals;
  const v = Number(vText);
  if (!Number.isFinite(n) || n <= 0 || !Number.isInteger(v)) return { kind: 'unknown', why: text };
  const count = (lo: number, hi: number) => Math.max(0, Math.min(n - 1, hi) - Math.max(0, lo) + 1);
  const hits: Record<string, number> = { lt: count(0, v - 1), le: count(0, v), gt: count(v + 1, n - 1), ge: count(v, n - 1), eq: count(v, v) };
  if (!(op in hits)) return { kind: 'unknown', why: text };
  return { kind: 'rand', p: hits[op] / n, text };
}

/** The predefined ACL of that name, if any. */
export function predefinedAcl(name: string): Atom | undefined {
  return PREDEFINED[name];
}

/** Several `acl NAME …` lines with one name are ORed together. */
export function orAtoms(atoms: Atom[]): Atom {
  if (atoms.length === 1) return atoms[0];
  if (atoms.some((a) => a.kind === 'always')) return { kind: 'always' };
  const live = atoms.filter((a) => a.kind !== 'never');
  if (live.length === 0) return { kind: 'never' };
  const unknown = live.find((a) => a.kind !== 'alts');
  if (unknown) return unknown.kind === 'unknown' ? unknown : { kind: 'unknown', why: 'a random test ORed with other patterns under one ACL name' };
  return { kind: 'alts', alts: live.flatMap((a) => (a.kind === 'alts' ? a.alts : [])), notes: live.flatMap((a) => (a.kind === 'alts' ? a.notes : [])) };
}

// ---- matches as sets of requests -------------------------------------------------------

/** The requests both matches accept, or null when there are none. */
export function intersect(a: RouteMatch, b: RouteMatch): RouteMatch | null {
  const out: RouteMatch = {};
  const host = intersectHost(a.host, b.host);
  if (host === null) return null;
  if (host !== undefined) out.host = host;
  if (a.pathPrefix !== undefined || b.pathPrefix !== undefined) {
    const [p, q] = [a.pathPrefix ?? '', b.pathPrefix ?? ''];
    if (p.startsWith(q)) out.pathPrefix = p;
    else if (q.startsWith(p)) out.pathPrefix = q;
    else return null;
  }
  if (a.methods || b.methods) {
    const m = a.methods && b.methods ? a.methods.filter((x) => b.methods!.includes(x)) : (a.methods ?? b.methods)!;
    if (m.length === 0) return null;
    out.methods = m;
  }
  if (a.headers || b.headers) {
    const h: Record<string, string> = { ...(a.headers ?? {}) };
    for (const [k, v] of Object.entries(b.headers ?? {})) {
      if (h[k] !== undefined && h[k] !== v) return null;
      h[k] = v;
    }
    out.headers = h;
  }
  return out;
}

function intersectHost(a: string | undefined, b: string | undefined): string | undefined | null {
  if (a === undefined) return b;
  if (b === undefined) return a;
  const wild = (h: string) => h.startsWith('*.');
  const inWild = (h: string, w: string) => h.endsWith(w.slice(1)) && h.length > w.length - 1;
  if (!wild(a) && !wild(b)) return a === b ? a : null;
  if (wild(a) && !wild(b)) return inWild(b, a) ? b : null;
  if (!wild(a) && wild(b)) return inWild(a, b) ? a : null;
  if (a.endsWith(b.slice(1))) return a;
  if (b.endsWith(a.slice(1))) return b;
  return null;
}

/** True when every request `later` accepts, `earlier` accepts too. Conservative: false when unsure. */
export function coversMatch(earlier: RouteMatch, later: RouteMatch): boolean {
  if (earlier.host !== undefined) {
    const l = later.host;
    if (l === undefined) return false;
    if (earlier.host.startsWith('*.')) {
      const suffix = earlier.host.slice(1);
      if (!(l.endsWith(suffix) && (l.startsWith('*.') ? l.length >= earlier.host.length : l.length > suffix.length))) return false;
    } else if (earlier.host !== l) return false;
  }
  if (earlier.pathPrefix && !(later.pathPrefix ?? '').startsWith(earlier.pathPrefix)) return false;
  if (earlier.methods && !(later.methods && later.methods.every((m) => earlier.methods!.includes(m)))) return false;
  if (earlier.headers) {
    for (const [k, v] of Object.entries(earlier.headers)) if (later.headers?.[k] !== v) return false;
  }
  return true;
}

// ---- rule compilation ------------------------------------------------------------------

/**
 * Compiles the rule list (in order) and the fallback (default_backend, or a listen's own
 * servers) into first-match-wins entries.
 */
export function compileRules(rules: Rule[], fallback: Entry | undefined, report: Report): Entry[] {
  let list: Entry[] = fallback ? [fallback] : [];
  let truncated = false;
  // Rules that produced routes: if none of a rule's routes survives, the rules above shadow it.
  const produced = new Set<Word>(fallback ? [fallback.at] : []);
  for (let r = rules.length - 1; r >= 0; r--) {
    const rule = rules[r];
    if (!rule.cond) {
      list = [{ match: {}, targets: [{ pool: rule.backend, weight: 1 }], at: rule.at, poolAt: rule.poolAt }];
      produced.add(rule.at);
      continue;
    }
    for (let t = rule.cond.length - 1; t >= 0; t--) {
      const added = prependTerm(rule, rule.cond[t], list, report);
      if (added.some((e) => e.at === rule.at)) produced.add(rule.at);
      list = prepend(added, list);
    }
    if (list.length > MAX_ENTRIES) {
      truncated = true;
      list = list.slice(0, MAX_ENTRIES);
    }
  }
  if (truncated && rules[0]) report('EK502', rules[0].at, `the routing rules of this frontend expand to more than ${MAX_ENTRIES} evenkeel routes; the prediction keeps the first ${MAX_ENTRIES}`);
  else {
    const alive = new Set(list.flatMap((e) => [e.at, ...(e.mixed ?? [])]));
    for (const rule of rules) if (produced.has(rule.at) && !alive.has(rule.at)) report('EK109', rule.at, `use_backend ${rule.backend} can never match: the rules above it take every request it would (they are tried in order, first match wins)`);
    if (fallback && produced.has(fallback.at) && !alive.has(fallback.at)) report('EK109', fallback.at, `default_backend ${fallback.targets[0].pool} is never used: the use_backend rules above take every request`);
  }
  return list;
}

/** The entries one AND-term of a rule puts in front of `rest` (none when it can never match). */
function prependTerm(rule: Rule, term: Literal[], rest: Entry[], report: Report): Entry[] {
  const unknown = term.find((l) => l.atom.kind === 'unknown');
  if (unknown && unknown.atom.kind === 'unknown') {
    report('EK502', unknown.word, `use_backend ${rule.backend}: ${unknown.atom.why} cannot be modelled, so the prediction leaves this condition out: the requests it matches are predicted to go where the rules below send them`);
    return [];
  }
  let p = 1;
  const positives: RouteMatch[][] = [];
  const negatives: RouteMatch[] = [];
  for (const l of term) {
    const a = l.atom;
    if (a.kind === 'always' || a.kind === 'never') {
      if ((a.kind === 'never') !== l.neg) return [];
      continue;
    }
    if (a.kind === 'rand') {
      p *= l.neg ? 1 - a.p : a.p;
      continue;
    }
    if (a.kind !== 'alts') continue;
    for (const note of a.notes) report('EK502', l.word, note);
    if (l.neg) negatives.push(...a.alts);
    else positives.push(a.alts);
  }
  const randLit = term.find((l) => l.atom.kind === 'rand');
  if (randLit && randLit.atom.kind === 'rand') {
    if (p >= 1) report('EK508', randLit.word, `use_backend ${rule.backend} if { ${randLit.atom.text} } is always true (rand(n) draws 0 to n-1): every request it sees goes to backend ${rule.backend}, none falls through`);
    if (p <= 0) {
      report('EK509', randLit.word, `use_backend ${rule.backend} if { ${randLit.atom.text} } is never true (rand(n) draws 0 to n-1): backend ${rule.backend} gets nothing from this rule`);
      return [];
    }
  }
  // P: the AND of the positive alternatives, as a list of matches (distributing AND over OR).
  let ps: RouteMatch[] = [{}];
  for (const alts of positives) {
    const next: RouteMatch[] = [];
    for (const a of ps) for (const b of alts) {
      const m = intersect(a, b);
      if (m) next.push(m);
    }
    ps = next;
    if (ps.length > MAX_ENTRIES) ps = ps.slice(0, MAX_ENTRIES);
  }
  const own = (m: RouteMatch, targets: Target[]): Entry => ({ match: m, targets, at: rule.at, poolAt: rule.poolAt });
  const out: Entry[] = [];
  for (const pm of ps) {
    // Requests in P that an ACL negated here matches escape to the rules below.
    for (const n of negatives) {
      const pn = intersect(pm, n);
      if (!pn) continue;
      for (const e of rest) {
        const m = intersect(pn, e.match);
        if (m) out.push({ ...e, match: m });
      }
    }
    if (p >= 1) out.push(own(pm, [{ pool: rule.backend, weight: 1 }]));
    else {
      // A random split: p of P's requests to this backend, the rest where the rules below send them.
      for (const e of rest) {
        const m = intersect(pm, e.match);
        if (m) out.push({ ...own(m, mix(rule.backend, p, e.targets)), mixed: [e.at, ...(e.mixed ?? [])] });
      }
      if (!rest.some((e) => coversMatch(e.match, pm))) out.push(own(pm, [{ pool: rule.backend, weight: 1 }]));
    }
  }
  return out;
}

/** `p` of the traffic to `pool`, `1 - p` spread like `targets`; weights in parts per 10,000. */
function mix(pool: string, p: number, targets: Target[]): Target[] {
  const sum = targets.reduce((s, t) => s + t.weight, 0) || 1;
  const out = new Map<string, number>([[pool, p * 10000]]);
  for (const t of targets) out.set(t.pool, (out.get(t.pool) ?? 0) + ((1 - p) * 10000 * t.weight) / sum);
  return [...out].map(([name, weight]) => ({ pool: name, weight: Math.round(weight * 1000) / 1000 }));
}

/**
 * `added` in front of `rest`, without entries that can never be reached: an added entry an
 * earlier added one covers, and a `rest` entry an added one covers (`rest` is already pruned,
 * so only the new entries need checking: linear per rule, not quadratic in the whole list).
 */
function prepend(added: Entry[], rest: Entry[]): Entry[] {
  if (added.length === 0) return rest;
  const front: Entry[] = [];
  for (const e of added) if (!front.some((x) => coversMatch(x.match, e.match))) front.push(e);
  const kept = rest.filter((e) => !front.some((x) => coversMatch(x.match, e.match)));
  return [...front, ...kept];
}
