/**
 * haproxy.cfg → evenkeel's config model, with the line:column of every construct, so
 * validate, plan and test run on a haproxy.cfg and point into it. Pure: the caller passes the
 * text, the environment for `"${VAR}"`, and the guardrails to judge it by.
 *
 * Mapping: a `backend` or `listen` is a pool named after it, a `server` a backend named after
 * the server; a `frontend` or `listen` with `bind` is a listener per bound address, whose
 * `use_backend` rules and `default_backend` become its routes (acl.ts).
 */
import { configSchema } from '../../config/index.js';
import { formatPath } from '../../config/index.js';
import type { LoadResult, Vocabulary } from '../../config/index.js';
import { deepFreeze } from '../../config/index.js';
import { compileRules, orAtoms, parseAclBody, predefinedAcl, type Atom, type Cond, type Entry, type Literal, type Report, type Rule } from './acl.js';
import { lex, type Env, type Line, type Word } from './lexer.js';
import { buildPool, isDisabledLine, timeoutOf } from './pools.js';
import { resolveProxies, splitSections, type Proxy } from './sections.js';
import { Sink } from './sink.js';
import { modelAddress, modelName } from './values.js';

/** Guardrails and capacities to judge a haproxy.cfg by (haproxy.cfg has no place for them). */
export interface ReadOptions {
  env?: Env;
  /** evenkeel's `guardrails:` keys, as written (schema input). */
  guardrails?: Record<string, unknown>;
  /** `{POOL: N}` (per server) or `{POOL: {SERVER: N}}`, keyed by HAProxy names. */
  capacity?: Record<string, number | Record<string, number>>;
}

const RULE_HINTS = {
  EK109: 'move the rule above the one that shadows it, or narrow the earlier condition',
  EK508: 'rand(n) draws an integer from 0 to n-1: for a p% canary write { rand(100) lt p }, with p below 100',
  EK509: 'remove the rule, or raise the bound so the test can be true',
} as const;

/** Request-rewriting and answering rules that change where requests go, which the model does not follow. */
const UNMODELLED_RULE = /^(lua\.|use-service|set-path|set-pathq|set-uri|replace-path|replace-pathq|replace-uri|redirect|deny|return|tarpit)\b/;

/**
 * `http-request deny` answering 413 or 429: a body-size or rate limit. It refuses some
 * requests but sends none elsewhere, so the shares the model predicts still hold.
 */
function isLimit(line: Line): boolean {
  const w = line.words.map((x) => x.text);
  const at = w.indexOf('deny');
  if (at !== 1) return false;
  const s = w.findIndex((x, i) => i > at && (x === 'status' || x === 'deny_status'));
  return s > 0 && (w[s + 1] === '413' || w[s + 1] === '429');
}

/** Reads haproxy.cfg text. Never throws: every problem is a finding with its line:column. */
export function readHaproxy(text: string, file = '<input>', options: ReadOptions = {}): LoadResult {
  const sink = new Sink();
  try {
    return read(text, file, options, sink);
  } catch (err) {
    // A reader bug must not become a stack trace for the user: report it at the top of the file.
    sink.add('EK501', { text: '', line: 1, column: 1 }, `evenkeel could not finish reading this haproxy.cfg (${(err as Error).message}); this is a bug in evenkeel`, 'please report it with the file; haproxy -c may still accept the file');
    return { file, text, findings: sink.findings, locator: sink.locator };
  }
}

function read(text: string, file: string, options: ReadOptions, sink: Sink): LoadResult {
  // Bytes that were not text arrive as NUL or U+FFFD (the decoder's replacement character).
  const bad = /[\u0000\uFFFD]/.exec(text);
  if (bad) {
    const line = text.slice(0, bad.index).split('\n').length;
    sink.add('EK500', { text: '', line, column: bad.index - text.lastIndexOf('\n', bad.index - 1) }, `${file} is not text: line ${line} has ${bad[0] === '\u0000' ? 'a NUL byte' : 'bytes that are not UTF-8'}`, 'check that this is the haproxy.cfg and not a log, a dump or a binary');
    return { file, text, findings: sink.findings, locator: sink.locator };
  }
  const { lines, problems } = lex(text, options.env ?? {});
  for (const p of problems) {
    const word = { text: '', line: p.line, column: p.column };
    if (p.kind === 'error') sink.error('EK501', word, p.message, 'close the quote or escape the character with \\, as HAProxy requires');
    else sink.partial(word, p.message);
  }
  sink.at([], lines[0]?.words[0] ?? { text: '', line: 1, column: 1 });
  const { sections, stray } = splitSections(lines);
  if (stray.length) sink.error('EK501', stray[0].words[0], `"${stray[0].words[0].text}" is outside any section`, 'put it under global, defaults, frontend, backend or listen');
  const { proxies, problems: sectionProblems } = resolveProxies(sections);
  for (const p of sectionProblems) sink.error('EK501', p.word, p.message, 'declare the defaults section (defaults NAME) above the proxies that use it');
  for (const sec of sections) {
    for (const l of sec.kind === 'global' ? sec.body : []) {
      if (l.words[0].text.startsWith('lua-')) sink.partial(l.words[0], `${l.words[0].text}: Lua code can change where requests go, and evenkeel does not run it`);
    }
  }

  const pools: Record<string, unknown> = {};
  const poolNames = new Map<string, string>();
  const serverNames = new Map<string, string[]>();
  const responders = new Map<string, string>();
  const served = proxies.filter((proxy) => {
    // A backend that answers every request itself (evenkeel's own export writes one for "no
    // route": http-request return status 404) has no servers and is no pool: no 503 comes of it.
    const answer = proxy.kind === 'backend' ? answersItself(proxy.section.body) : undefined;
    if (answer) {
      responders.set(proxy.name, answer);
      return false;
    }
    // A backend that only declares a stick-table (the usual holder of a rate table) serves nothing.
    const body = proxy.section.body;
    if (proxy.kind === 'backend' && body.some((l) => l.words[0].text === 'stick-table') && !body.some((l) => ['server', 'server-template', 'use_backend', 'default_backend'].includes(l.words[0].text))) return false;
    const statsLine = proxy.section.body.find((l) => l.words[0].text === 'stats');
    const routes = proxy.section.body.some((l) => ['server', 'use_backend', 'default_backend'].includes(l.words[0].text));
    if (!statsLine || routes) return true;
    sink.partial(statsLine.words[0], `${proxy.kind} ${proxy.name} serves HAProxy's statistics page itself, with no servers behind it, so it is left out`);
    return false;
  });
  for (const proxy of served) {
    if (proxy.kind === 'frontend') continue;
    const name = modelName(proxy.name);
    if (name !== proxy.name) sink.partial(proxy.section.head.words[1], `the name ${proxy.name} is written ${name} in evenkeel's output (names use letters, digits, ".", "_" and "-")`);
    if (pools[name]) {
      sink.error('EK501', proxy.section.head.words[1], `${proxy.kind} ${proxy.name} is declared twice`, 'give every backend and listen section a unique name');
      continue;
    }
    const pool = buildPool(proxy, sink, capacityFor(options.capacity?.[proxy.name]));
    pools[name] = pool;
    poolNames.set(proxy.name, name);
    serverNames.set(name, (pool.backends as { name: string }[]).map((b) => b.name));
  }

  const listeners: Record<string, unknown>[] = [];
  for (const proxy of served) {
    if (proxy.kind === 'backend') continue;
    listeners.push(...buildListeners(proxy, sink, { poolNames, serverNames, responders }, listeners.length));
  }
  if (listeners.length === 0) {
    sink.add('EK513', lines[0]?.words[0] ?? { text: '', line: 1, column: 1 }, `${file} has no frontend or listen section with a bind line, so no traffic enters it and there is nothing to predict`, 'add a frontend with bind ADDRESS:PORT and default_backend NAME (or a listen section with bind and servers)');
    return { file, text, findings: sink.findings, locator: sink.locator };
  }

  const raw = { listeners, pools, ...(options.guardrails ? { guardrails: options.guardrails } : {}) };
  const parsed = configSchema.safeParse(raw);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const path = issue.path.map((p) => (typeof p === 'symbol' ? String(p) : p)) as (string | number)[];
      const pos = sink.locator.locate(path) ?? { line: 1, column: 1 };
      sink.add('EK501', { text: '', ...pos }, `${formatPath(path)}: ${issue.message}`, 'evenkeel cannot model this value; check the haproxy.cfg line it comes from');
    }
    return { file, text, findings: sink.findings, locator: sink.locator };
  }
  return { file, text, config: deepFreeze(parsed.data), findings: sink.findings, locator: sink.locator, vocabulary: HAPROXY_WORDS };
}

/** A haproxy.cfg's backends are evenkeel's pools, its servers the backends. */
const HAPROXY_WORDS: Vocabulary = { pool: 'backend', backend: 'server', lead: 'server ', nameIsAddress: false, weightZero: ['is at weight 0 or disabled', 'are at weight 0 or disabled'] };

function capacityFor(c: number | Record<string, number> | undefined): { pool?: number; backends: Record<string, number> } {
  if (typeof c === 'number') return { pool: c, backends: {} };
  return { backends: c ?? {} };
}

/**
 * `http-request return|deny|tarpit|redirect` (or `redirect`) with no condition, in a backend
 * with no servers and no routing of its own: it answers every request. Returns the action.
 */
function answersItself(body: readonly Line[]): string | undefined {
  if (body.some((l) => ['server', 'server-template', 'use_backend', 'default_backend', 'use-service'].includes(l.words[0].text))) return undefined;
  for (const l of body) {
    const words = l.words.map((w) => w.text);
    if (words.includes('if') || words.includes('unless')) continue;
    if (words[0] === 'http-request' && ['return', 'deny', 'tarpit', 'redirect'].includes(words[1])) return `http-request ${words[1]}`;
    if (words[0] === 'redirect') return 'redirect';
  }
  return undefined;
}

/**
 * A split drawn once per request: `http-request set-var(txn.D) rand(N)`, then use_backend
 * rules that share their other conditions cut the draw at rising edges, `{ var(txn.D) -m int
 * lt T }` (how evenkeel's export writes a split). Each cut is rewritten as the independent
 * draw it amounts to after the earlier cuts took their part: `{ rand(N - T0) lt T - T0 }`,
 * T0 being the previous edge — the same shares, in terms the rules already model.
 */
function randomDraws(body: readonly Line[]): (words: Word[]) => Word[] {
  const ranges = new Map<string, number>();
  for (const l of body) {
    const [kw, action, expr, ...rest] = l.words.map((w) => w.text);
    const v = /^set-var\((txn\.[A-Za-z0-9_.]+)\)$/.exec(action ?? '');
    const r = /^rand\((\d+)\)$/.exec(expr ?? '');
    if (kw === 'http-request' && v && r && rest.length === 0) ranges.set(v[1], Number(r[1]));
  }
  const edges = new Map<string, number>();
  return (words) => {
    const t = words.map((w) => w.text);
    for (let i = 0; i + 6 < t.length; i++) {
      const name = /^var\((txn\.[A-Za-z0-9_.]+)\)$/.exec(t[i + 1])?.[1];
      const range = name === undefined ? undefined : ranges.get(name);
      const edge = Number(t[i + 5]);
      if (t[i] !== '{' || range === undefined || t[i + 2] !== '-m' || t[i + 3] !== 'int' || t[i + 4] !== 'lt' || !Number.isInteger(edge) || t[i + 6] !== '}') continue;
      const key = `${name}\0${[...t.slice(0, i), ...t.slice(i + 7)].join(' ')}`;
      const below = Math.min(edges.get(key) ?? 0, range - 1);
      edges.set(key, Math.max(below, edge));
      const at = (w: Word, text: string): Word => ({ ...w, text });
      return [...words.slice(0, i), words[i], at(words[i + 1], `rand(${range - below})`), at(words[i + 4], 'lt'), at(words[i + 5], String(Math.max(0, edge - below))), words[i + 6], ...words.slice(i + 7)];
    }
    return words;
  };
}

/** The backends a frontend may name: pools by their model names, and those that answer themselves. */
interface Targets {
  poolNames: Map<string, string>;
  serverNames: Map<string, string[]>;
  responders: Map<string, string>;
}

/** The listeners of one frontend or listen section: one per bound address. */
function buildListeners(proxy: Proxy, sink: Sink, { poolNames, serverNames, responders }: Targets, firstIndex: number): Record<string, unknown>[] {
  const body = proxy.section.body;
  // A disabled frontend does not listen at all.
  if (body.some(isDisabledLine)) return [];
  const binds: { address: string; word: Word }[] = [];
  for (const line of body) {
    if (line.words[0].text !== 'bind') continue;
    const addrWord = line.words[1];
    if (!addrWord) {
      sink.error('EK501', line.words[0], `${proxy.name}: bind needs an address`, 'write bind ADDRESS:PORT, e.g. bind :80');
      continue;
    }
    for (const part of addrWord.text.split(',')) {
      const a = modelAddress(part.trim());
      if (a.note) sink.partial(addrWord, `${proxy.name}: bind ${a.note}${a.address ? '' : '; this address is left out'}`);
      if (a.address) binds.push({ address: a.address, word: addrWord });
    }
  }
  if (binds.length === 0) return [];
  const mode = proxy.settings.mode?.words[1]?.text ?? 'tcp';
  const http = mode === 'http';
  // An unknown backend keeps its name, so EK105 reports it at the use_backend line.
  const poolRef = (name: string): string => poolNames.get(name) ?? modelName(name);

  const rules: Rule[] = [];
  const acls = collectAcls(body, sink, proxy.name);
  const drawAsRand = randomDraws(body);
  for (const line of body) {
    const kw = line.words[0].text;
    if ((kw === 'http-request' || kw === 'tcp-request') && !isLimit(line) && line.words.some((w) => UNMODELLED_RULE.test(w.text))) {
      const w = line.words.find((x) => UNMODELLED_RULE.test(x.text))!;
      sink.partial(w, `${proxy.name}: ${kw} ${w.text} changes or answers requests before use_backend, and evenkeel does not follow it`);
    }
    if (kw === 'use-server') sink.partial(line.words[0], `${proxy.name}: use-server picks a server by rule, which the prediction ignores`);
    if (kw !== 'use_backend') continue;
    const target = line.words[1];
    if (!target) {
      sink.error('EK501', line.words[0], `${proxy.name}: use_backend needs a backend name`, 'write use_backend NAME if CONDITION');
      continue;
    }
    if (target.text.includes('%[')) {
      sink.partial(target, `${proxy.name}: use_backend ${target.text} picks the backend at run time`);
      continue;
    }
    const answer = responders.get(target.text);
    if (answer) {
      sink.partial(target, `${proxy.name}: use_backend ${target.text}: that backend answers requests itself (${answer}); the model has no such answer, so the requests this rule takes are predicted to go to the rules below it`);
      continue;
    }
    const rule: Rule = { backend: poolRef(target.text), at: line.words[0], poolAt: target };
    const condWord = line.words[2];
    if (condWord) {
      if (condWord.text !== 'if' && condWord.text !== 'unless') {
        sink.error('EK501', condWord, `${proxy.name}: expected if or unless after use_backend ${target.text}, found "${condWord.text}"`, 'write use_backend NAME if CONDITION');
        continue;
      }
      const cond = parseCond(drawAsRand(line.words.slice(3)), acls, sink);
      if (!cond) continue;
      rule.cond = condWord.text === 'unless' ? negate(cond, condWord) : cond;
    }
    rules.push(rule);
  }
  if (!http && rules.length) sink.partial(rules[0].at, `${proxy.name} is mode tcp: its use_backend rules choose on connection properties, which the model does not follow; all its traffic is predicted to go to the default backend`);

  const defaultLine = proxy.settings.defaultBackend;
  // A default backend that answers itself is what evenkeel does with a request no route takes.
  const defaultName = defaultLine?.words[1]?.text;
  const fallbackPool = defaultName !== undefined ? (responders.has(defaultName) ? undefined : poolRef(defaultName)) : proxy.kind === 'listen' ? modelName(proxy.name) : undefined;
  const fallbackAt = defaultLine?.words[0] ?? proxy.section.head.words[0];
  const fallbackPoolAt = defaultLine?.words[1] ?? proxy.section.head.words[1] ?? proxy.section.head.words[0];
  const fallback: Entry | undefined = fallbackPool ? { match: {}, targets: [{ pool: fallbackPool, weight: 1 }], at: fallbackAt, poolAt: fallbackPoolAt } : undefined;

  const base = modelName(proxy.name);
  const out: Record<string, unknown>[] = [];
  const limits = listenerLimits(proxy, sink);
  binds.forEach((bind, bi) => {
    const li = firstIndex + bi;
    const name = bi === 0 ? base : `${base}-${bi + 1}`;
    const lp = ['listeners', li];
    sink.at(lp, bind.word);
    sink.at([...lp, 'address'], bind.word);
    sink.at([...lp, 'name'], proxy.section.head.words[1] ?? proxy.section.head.words[0]);
    const listener: Record<string, unknown> = { name, address: bind.address, protocol: http ? 'http' : 'tcp' };
    if (limits) listener.limits = limits;
    if (!http) {
      if (fallbackPool) {
        listener.pool = fallbackPool;
        sink.at([...lp, 'pool'], fallbackPoolAt);
      }
      out.push(listener);
      return;
    }
    const report: Report = (code, word, message) => {
      if (code === 'EK502') return sink.partial(word, message);
      const backend = /backend (\S+)/.exec(message)?.[1];
      const servers = backend ? serverNames.get(backend) : undefined;
      if (code !== 'EK109' && servers?.length) message += ` (server${servers.length > 1 ? 's' : ''} ${servers.join(', ')})`;
      sink.add(code, word, message, RULE_HINTS[code]);
    };
    const entries = bi === 0 ? compileRules(rules, fallback, report) : compileRules(rules, fallback, () => undefined);
    const names = new Set<string>();
    listener.routes = entries.map((e, ri) => {
      const rp = [...lp, 'routes', ri];
      sink.at(rp, e.at);
      sink.at([...rp, 'pool'], e.poolAt);
      sink.at([...rp, 'split'], e.poolAt);
      sink.at([...rp, 'match'], e.at);
      let rname = `${name}.${e.targets.length === 1 ? e.targets[0].pool : 'split'}`;
      for (let k = 2; names.has(rname); k++) rname = `${name}.${e.targets.length === 1 ? e.targets[0].pool : 'split'}-${k}`;
      names.add(rname);
      const route: Record<string, unknown> = { name: rname.slice(0, 128) };
      if (Object.keys(e.match).length) route.match = e.match;
      if (e.targets.length === 1) route.pool = e.targets[0].pool;
      else route.split = e.targets;
      return route;
    });
    out.push(listener);
  });
  return out;
}

/** `timeout http-request` and `timeout http-keep-alive` → the listener's limits. */
function listenerLimits(proxy: Proxy, sink: Sink): Record<string, string> | undefined {
  const out: Record<string, string> = {};
  for (const [key, model] of [['http-request', 'headersTimeout'], ['http-keep-alive', 'keepAliveTimeout']] as const) {
    const t = timeoutOf(proxy.settings, key, sink);
    if (t) out[model] = t.value;
  }
  return Object.keys(out).length ? out : undefined;
}

/** Named ACLs of a section: every `acl NAME …` line, ORed by name. */
function collectAcls(body: Line[], sink: Sink, proxy: string): Map<string, Atom> {
  const parts = new Map<string, Atom[]>();
  for (const line of body) {
    if (line.words[0].text !== 'acl') continue;
    const name = line.words[1];
    if (!name || line.words.length < 3) {
      sink.error('EK501', line.words[0], `${proxy}: an acl line needs a name and a criterion`, 'write acl NAME CRITERION [FLAGS] VALUE…, e.g. acl is_api path_beg /api/');
      continue;
    }
    const list = parts.get(name.text) ?? [];
    list.push(parseAclBody(line.words.slice(2).map((w) => w.text)));
    parts.set(name.text, list);
  }
  return new Map([...parts].map(([k, v]) => [k, orAtoms(v)]));
}

/** A condition's words → OR of AND-terms, or undefined (reported) when it cannot be read. */
function parseCond(words: Word[], acls: Map<string, Atom>, sink: Sink): Cond | undefined {
  const terms: Cond = [[]];
  for (let i = 0; i < words.length; i++) {
    let w = words[i];
    if (w.text === '||' || w.text === 'or') {
      terms.push([]);
      continue;
    }
    let neg = false;
    let text = w.text;
    if (text === '!') {
      neg = true;
      w = words[++i];
      if (!w) break;
      text = w.text;
    } else if (text.startsWith('!')) {
      neg = true;
      text = text.slice(1);
    }
    let atom: Atom;
    if (text === '{') {
      const close = words.findIndex((x, j) => j > i && x.text === '}');
      if (close < 0) {
        sink.error('EK501', w, 'an anonymous ACL { … } is not closed', 'close it with } (separated by a space)');
        return undefined;
      }
      atom = parseAclBody(words.slice(i + 1, close).map((x) => x.text));
      i = close;
    } else {
      const named = acls.get(text) ?? predefinedAcl(text);
      if (!named) {
        sink.error('EK501', w, `ACL ${text} is not declared in this section`, `declare it above with acl ${text} CRITERION VALUE, or check its spelling`);
        return undefined;
      }
      atom = named;
    }
    terms[terms.length - 1].push({ atom, neg, word: w });
  }
  return terms.filter((t) => t.length > 0);
}

/** `unless A || B c` = if !A and !(B c): a single negated literal per OR-term of the original. */
function negate(cond: Cond, word: Word): Cond {
  const literals: Literal[] = [];
  for (const term of cond) {
    if (term.length === 1) literals.push({ ...term[0], neg: !term[0].neg });
    else {
      // !(a ∧ b) is not a conjunction the model can hold: say so rather than guess.
      literals.push({ atom: { kind: 'unknown', why: 'unless with an AND of several ACLs' }, neg: false, word });
    }
  }
  return [literals];
}
