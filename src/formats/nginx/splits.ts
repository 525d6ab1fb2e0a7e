/**
 * `split_clients KEY $var { 10% a; * b; }` → a weighted split across pools, when a location's
 * proxy_pass is `http://$var`. nginx hashes KEY with murmurhash2 and takes the first part whose
 * cumulative bound (percent × 2³² / 100, summed) lies above the hash; `*` takes the rest. A key
 * that is the same for every request (a constant, or only $remote_addr behind a loopback-only
 * listener) sends every request to one part: EK532, naming the part nginx picks.
 */
import { murmurHash2 } from './hash.js';
import type { Directive, Pos } from './lexer.js';
import type { Reading } from './reading.js';

/** One split_clients block. */
export interface Split {
  key: string;
  pos: Pos;
  entries: { value: string; weight: number; pos: Pos; bound?: number }[];
  /** Keys (with their reason) already reported as one-key splits. */
  reported: Set<string>;
}

/** Every split_clients block of `http`, by the variable it sets (without `$`). */
export function readSplits(http: Directive[], r: Reading): Map<string, Split> {
  const out = new Map<string, Split>();
  for (const d of http.filter((x) => x.name === 'split_clients' && x.block)) {
    const key = d.args[0]?.value;
    const v = /^\$([A-Za-z0-9_]+)$/.exec(d.args[1]?.value ?? '');
    if (key === undefined || !v) {
      r.syntaxLike(d.pos, 'split_clients needs a key and a $variable: split_clients "${remote_addr}" $variant { … }', 'write it as split_clients "${request_id}" $pool { 90% app; * canary; }');
      continue;
    }
    const s: Split = { key, pos: d.pos, entries: [], reported: new Set() };
    let sum = 0;
    let bound = 0;
    let star: Split['entries'][number] | undefined;
    for (const e of d.block!) {
      const value = e.args[0]?.value ?? '';
      if (e.name === '*') {
        star = { value, weight: 0, pos: e.pos };
        s.entries.push(star);
        continue;
      }
      const m = /^(\d+(?:\.\d{1,2})?)%$/.exec(e.name);
      if (!m) {
        r.invalid(e.pos, `split_clients entry "${e.name}" is not a percentage`, 'write it as 10% upstream_name; or * upstream_name;');
        continue;
      }
      const hundredths = Math.round(Number(m[1]) * 100);
      sum += hundredths;
      if (sum > 10000) r.invalid(e.pos, `split_clients percentages add up to more than 100% (at "${e.name}")`, 'make them add up to at most 100%: nginx refuses this config');
      bound += Math.floor((hundredths * 0xffffffff) / 10000);
      s.entries.push({ value, weight: hundredths / 100, pos: e.pos, bound });
    }
    if (star) star.weight = Math.max(0, 100 - sum / 100);
    else if (sum < 10000) r.partial(d.pos, `split_clients ${key} ${d.args[1].value} covers ${sum / 100}% and has no "*" entry: the other ${100 - sum / 100}% get an empty value`);
    out.set(v[1], s);
  }
  return out;
}

/** The split's parts as pools (merged when two parts name one pool); EK532 when every request has one key. */
export function splitTargets(s: Split, poolFor: (host: string) => string | undefined, r: Reading, loopback: boolean): { entries: { pool: string; weight: number }[]; positions: Pos[] } | undefined {
  const entries: { pool: string; weight: number }[] = [];
  const positions: Pos[] = [];
  for (const e of s.entries) {
    const pool = poolFor(e.value);
    if (!pool) {
      r.partial(e.pos, `split_clients value "${e.value}" is not an upstream or host:port; its share is left out of the prediction`);
      continue;
    }
    const same = entries.find((x) => x.pool === pool);
    if (same) same.weight += e.weight;
    else {
      entries.push({ pool, weight: e.weight });
      positions.push(e.pos);
    }
  }
  if (entries.length === 0) return undefined;
  const key = loopback ? s.key.replace(/\$\{remote_addr\}|\$remote_addr(?![A-Za-z0-9_])/g, '127.0.0.1') : s.key;
  const why = !s.key.includes('$') ? `the constant "${s.key}"` : `"${s.key}", which is the same for every request here (every server using it listens on loopback only, so $remote_addr is one address)`;
  if (!key.includes('$') && !s.reported.has(why)) {
    s.reported.add(why);
    const h = murmurHash2(key);
    const chosen = s.entries.find((e) => e.bound === undefined || h < e.bound);
    r.add('EK532', s.pos, {
      message: `split_clients hashes ${why}: ${chosen ? `every request gets "${chosen.value}"` : 'no request gets a value'}, whatever the percentages say`,
      hint: 'put a per-request or per-client variable in the key, e.g. split_clients "${remote_addr}${http_user_agent}" or "${request_id}"',
      pool: chosen?.value,
    });
  }
  return { entries, positions };
}
