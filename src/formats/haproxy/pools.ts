/**
 * HAProxy `backend` / `listen` sections → evenkeel pools: `server` lines (with `default-server`),
 * `balance`, `hash-type`, `option allbackups`, checks and timeouts. Where HAProxy does what the
 * model cannot hold exactly (balance first, leastconn, its own hash functions), the pool gets
 * the closest model and a finding says what HAProxy really does.
 */
import type { Line, Word } from './lexer.js';
import type { Proxy, Settings } from './sections.js';
import { haproxyTime, intIn, modelAddress, modelName, ms } from './values.js';
import type { Sink } from './sink.js';

/** Server keywords that take one argument (so it is not mistaken for a keyword). */
const WITH_ARG = new Set(['addr', 'agent-addr', 'agent-inter', 'agent-port', 'agent-send', 'alpn', 'ca-file', 'check-alpn', 'check-proto', 'check-sni', 'ciphers', 'ciphersuites', 'client-sigalgs', 'cookie', 'crl-file', 'crt', 'curves', 'downinter', 'error-limit', 'fall', 'fastinter', 'guid', 'hash-key', 'id', 'init-addr', 'inter', 'log-proto', 'max-reuse', 'maxconn', 'maxqueue', 'minconn', 'namespace', 'npn', 'observe', 'on-error', 'on-marked-down', 'on-marked-up', 'pool-low-conn', 'pool-max-conn', 'pool-purge-delay', 'port', 'proto', 'proxy-v2-options', 'redir', 'resolve-net', 'resolve-opts', 'resolve-prefer', 'resolvers', 'rise', 'set-proxy-v2-tlv-fmt', 'shard', 'sigalgs', 'slowstart', 'sni', 'socks4', 'source', 'ssl-max-ver', 'ssl-min-ver', 'tcp-ut', 'track', 'usesrc', 'verify', 'verifyhost', 'weight', 'ws']);

/** `disabled` on a line of its own: the whole proxy is off. */
export function isDisabledLine(l: Line): boolean {
  return l.words.length === 1 && l.words[0].text === 'disabled';
}

/** One server as read, before the pool decides who serves. */
interface Server {
  name: string;
  line: Line;
  address: string;
  /** Where the address is written. */
  addressAt?: Word;
  weight: number;
  backup: boolean;
  disabled: boolean;
  maxconn?: number;
  check: boolean;
  inter?: string;
  rise?: number;
  fall?: number;
  slowstart?: string;
  capacity?: number;
  words: Map<string, Word>;
}

/** Reads `server`/`default-server` parameters into `s`. */
function readParams(words: Word[], s: Server, sink: Sink, proxy: string): void {
  for (let i = 0; i < words.length; i++) {
    const kw = words[i].text;
    const arg = words[i + 1];
    s.words.set(kw, words[i]);
    switch (kw) {
      case 'backup': s.backup = true; break;
      case 'no-backup': s.backup = false; break;
      case 'disabled': s.disabled = true; break;
      case 'enabled': s.disabled = false; break;
      case 'check': s.check = true; break;
      case 'no-check': s.check = false; break;
      default: break;
    }
    if (!WITH_ARG.has(kw)) continue;
    i++;
    if (arg === undefined) {
      sink.error('EK501', words[i - 1], `${proxy}: ${kw} needs a value`, `write ${kw} followed by its value`);
      continue;
    }
    const bad = (range: string) => sink.error('EK501', arg, `${proxy}: ${kw} ${arg.text} is not ${range}`, `use ${range}, as HAProxy requires`);
    if (kw === 'weight') {
      const w = intIn(arg.text, 0, 256);
      if (w === undefined) bad('an integer from 0 to 256');
      else s.weight = w;
    } else if (kw === 'maxconn') {
      const n = intIn(arg.text, 0, 10_000_000);
      if (n === undefined) bad('a number of connections');
      else s.maxconn = n > 0 ? n : undefined;
    } else if (kw === 'rise' || kw === 'fall') {
      const n = intIn(arg.text, 1, 1000);
      if (n === undefined) bad('an integer of at least 1');
      else s[kw] = n;
    } else if (kw === 'inter' || kw === 'slowstart') {
      const t = haproxyTime(arg.text);
      if (t === undefined) bad('a time such as 2s or 500ms');
      else if (kw === 'inter') s.inter = t;
      else s.slowstart = t;
    }
  }
}

/** `timeout KEY` as the proxy has it (its own or inherited) and where; an unreadable time is EK501. */
export function timeoutOf(st: Settings, key: string, sink: Sink): { value: string; at: Word } | undefined {
  const line = st.timeouts.get(key);
  if (!line) return undefined;
  const value = haproxyTime(line.words[2]?.text ?? '');
  if (value) return { value, at: line.words[0] };
  sink.error('EK501', line.words[2] ?? line.words[0], `timeout ${key} ${line.words[2]?.text ?? ''} is not a time`, 'write a time such as 5s or 500ms (milliseconds when no unit)');
  return undefined;
}

/** The raw pool object (schema input) for one backend/listen section, recording positions. */
export function buildPool(proxy: Proxy, sink: Sink, capacity: { pool?: number; backends: Record<string, number> }): Record<string, unknown> {
  const name = modelName(proxy.name);
  const pp = ['pools', name];
  const st = proxy.settings;
  sink.at(pp, proxy.section.head.words[0]);
  const template: Server = { name: '', line: proxy.section.head, address: '', weight: 1, backup: false, disabled: false, check: false, words: new Map() };
  for (const d of st.defaultServer) readParams(d.words.slice(1), template, sink, proxy.name);

  const servers: Server[] = [];
  const add = (line: Line, name: string, address: string, addressAt: Word, params: Word[]) => {
    const s: Server = { ...template, words: new Map(template.words), name: modelName(name), line, address, addressAt };
    readParams(params, s, sink, `${proxy.name}/${name}`);
    const cap = /evenkeel:.*\bcapacity\s*=\s*(\d+(?:\.\d+)?)/.exec(line.comment ?? '');
    s.capacity = capacity.backends[name] ?? (cap ? Number(cap[1]) : undefined);
    servers.push(s);
  };
  for (const line of proxy.section.body) {
    const kw = line.words[0].text;
    if (kw !== 'server' && kw !== 'server-template') continue;
    const template = kw === 'server-template';
    const [, nameW, countW] = line.words;
    const addrW = line.words[template ? 3 : 2];
    if (!nameW || !addrW) {
      sink.error('EK501', line.words[0], `${proxy.name}: a ${kw} line needs a name${template ? ', a count' : ''} and an address`, template ? 'write server-template PREFIX COUNT FQDN:PORT [check] …' : 'write server NAME ADDRESS:PORT [weight N] [check] …');
      continue;
    }
    const addr = modelAddress(addrW.text, 80);
    if (!addr.address) {
      sink.partial(addrW, `${proxy.name}/${nameW.text}: ${addr.note}; this server is left out of the prediction`);
      continue;
    }
    if (addr.note) sink.partial(addrW, `${proxy.name}/${nameW.text}: ${addr.note}`);
    if (!template) {
      add(line, nameW.text, addr.address, addrW, line.words.slice(3));
      continue;
    }
    const range = /^(?:(\d+)-)?(\d+)$/.exec(countW.text);
    const [low, high] = range ? [Number(range[1] ?? 1), Number(range[2])] : [0, -1];
    if (!range || high < low || high - low >= 1000) {
      sink.error('EK501', countW, `${proxy.name}: server-template count ${countW.text} is not a number or range of at most 1000`, 'write a count such as 5, or a range such as 1-5');
      continue;
    }
    // The servers of a template are the addresses the FQDN resolves to at run time: distinct
    // servers, told apart here by their name (an IP literal really is one server, N times).
    const [host, port] = [addr.address.slice(0, addr.address.lastIndexOf(':')), addr.address.slice(addr.address.lastIndexOf(':') + 1)];
    const literal = /^[\d.]+$|^\[/.test(host);
    if (!literal) sink.partial(addrW, `${proxy.name}: server-template ${nameW.text} ${countW.text} ${addrW.text} fills its servers from DNS at run time; the model assumes ${high - low + 1} distinct servers, ${nameW.text}${low} to ${nameW.text}${high}, all resolved and up`);
    for (let i = low; i <= high; i++) add(line, `${nameW.text}${i}`, literal ? addr.address : `${modelName(nameW.text)}${i}.${host}:${port}`, addrW, line.words.slice(4));
  }

  const balance = st.balance?.words.map((w) => w.text) ?? ['balance', 'roundrobin'];
  const algo = balance[1] ?? 'roundrobin';
  const pool: Record<string, unknown> = { algorithm: 'round-robin' };
  if (st.balance) sink.at([...pp, 'algorithm'], st.balance.words[1] ?? st.balance.words[0]);
  const balanceWord = st.balance?.words[1] ?? proxy.section.head.words[0];
  const hashType = st.hashType?.words[1]?.text ?? 'map-based';
  const hashed = (on: string, what: string) => {
    pool.algorithm = 'consistent-hash';
    pool.hashOn = on;
    sink.at([...pp, 'hashOn'], balanceWord);
    sink.info('EK506', balanceWord, `backend ${proxy.name}: balance ${what} (hash-type ${hashType}) is predicted with evenkeel's consistent hash on ${on}: which key lands on which server differs from HAProxy's, but whether one key or a missing key concentrates traffic does not`, 'nothing to fix; with a traffic sample (--traffic) the prediction hashes the real keys');
  };
  const notHashed = (what: string) => sink.info('EK507', balanceWord, `backend ${proxy.name}: balance ${what} hashes on something evenkeel's model has no key for, so it is predicted as round-robin; a key that is the same for most requests would still send them to one server`, 'check the key by hand, or balance on hdr(NAME), source or uri, which the model can follow');
  if (algo === 'roundrobin' || algo === 'static-rr') pool.algorithm = 'round-robin';
  else if (algo === 'leastconn') {
    pool.algorithm = 'least-request';
    sink.info('EK505', balanceWord, `backend ${proxy.name}: leastconn is predicted weight-proportional, an approximation: HAProxy picks the server with the fewest connections (weights 3:1 gave 50/50 with sequential requests and 60/40 to 70/30 at 16 concurrent connections on haproxy 2.6)`, 'nothing to fix; use roundrobin if the shares must follow the weights exactly');
  } else if (/^random(\(\d+\))?$/.test(algo)) pool.algorithm = 'random';
  else if (algo === 'source') hashed('client-ip', 'source');
  else if (algo === 'uri') hashed('path', 'uri');
  else if (/^hdr\([^)]+\)$/.test(algo)) hashed(`header:${algo.slice(4, -1).trim().toLowerCase()}`, algo);
  else if (algo === 'hash') {
    const expr = balance[2] ?? '';
    const m = /^(?:req\.)?(hdr|cook)\(([^),]+)\)$/.exec(expr);
    if (expr === 'src') hashed('client-ip', 'hash src');
    else if (expr === 'path') hashed('path', 'hash path');
    else if (m) hashed(`${m[1] === 'hdr' ? 'header' : 'cookie'}:${m[2].trim()}`, `hash ${expr}`);
    else notHashed(`hash ${expr}`);
  } else if (algo === 'url_param' || /^rdp-cookie/.test(algo)) notHashed(balance.slice(1).join(' '));
  else if (algo !== 'first') sink.error('EK501', balanceWord, `backend ${proxy.name}: unknown balance algorithm "${algo}"`, 'use roundrobin, static-rr, leastconn, first, random, source, uri, url_param, hdr(NAME) or hash');

  // Who serves: weight 0 and disabled serve nothing (nor does any server of a disabled
  // backend); backups only when no primary can.
  const sectionOff = proxy.section.body.some(isDisabledLine);
  const weightOf = (s: Server) => (s.disabled || sectionOff ? 0 : s.weight);
  const allBackups = st.options.get('allbackups')?.on === true;
  const backups = servers.filter((s) => s.backup && weightOf(s) > 0);
  const standby = new Set<Server>();
  if (!allBackups && backups.length > 1) {
    for (const s of backups.slice(1)) {
      standby.add(s);
      sink.info('EK510', s.line.words[1], `backend ${proxy.name}: backup ${s.name} never serves while ${backups[0].name} is up, because without option allbackups HAProxy uses only the first usable backup; it is modelled with no traffic`, `add option allbackups to backend ${proxy.name} if the backups should share the load`);
    }
  }
  if (algo === 'first') {
    // balance first: the first usable server (in declaration order) takes every connection
    // until it has maxconn of them; the others are standbys until then.
    const first = servers.find((s) => !s.backup && weightOf(s) > 0);
    if (first) {
      const others = servers.filter((s) => s !== first && !s.backup && weightOf(s) > 0);
      for (const s of others) standby.add(s);
      const at = first.line.words[1];
      if (first.maxconn === undefined) {
        sink.error('EK503', at, `backend ${proxy.name} uses balance first and server ${first.name} (${first.address}) has no maxconn, so it gets every request${others.length ? ` and ${others.map((s) => s.name).join(', ')} ${others.length === 1 ? 'gets' : 'get'} none until it is down` : ''}`, `give ${first.name} a maxconn (the connections it can serve at once) so the next server takes the overflow, or use balance roundrobin`, { pool: name });
      } else if (others.length) {
        sink.info('EK504', at, `backend ${proxy.name} uses balance first: ${first.name} takes every request until it has ${first.maxconn} connections at once, then ${others[0].name} takes the overflow, and so on; the shares shown are at low concurrency, where ${first.name} serves everything`, 'nothing to fix if filling servers in order is intended; the capacity check then assumes the first server carries the load', { pool: name });
      }
    }
  }

  // Findings about the server list as a whole point at what switched it off, or its first server.
  const offLine = proxy.section.body.find(isDisabledLine);
  const listAt = offLine?.words[0] ?? servers[0]?.line.words[0];
  if (listAt) sink.at([...pp, 'backends'], listAt);
  let checkAt: Word | undefined;
  const backends = servers.map((s, i) => {
    const bp = [...pp, 'backends', i];
    sink.at(bp, s.line.words[0]);
    sink.at([...bp, 'name'], s.line.words[1]);
    sink.at([...bp, 'address'], s.addressAt ?? s.line.words[2]);
    sink.at([...bp, 'weight'], s.words.get('weight') ?? s.words.get('disabled') ?? s.line.words[1]);
    if (s.check && !checkAt) checkAt = s.words.get('check');
    // A backup beyond the first (no allbackups) never serves: weight 0. A server waiting its
    // turn under balance first is a standby: backup, weight kept.
    const b: Record<string, unknown> = { name: s.name, address: s.address, weight: standby.has(s) && s.backup ? 0 : weightOf(s) };
    if (s.backup || standby.has(s)) b.backup = true;
    if (s.maxconn !== undefined) b.maxConnections = s.maxconn;
    if (s.capacity !== undefined) b.capacity = s.capacity;
    return b;
  });
  pool.backends = backends;
  if (capacity.pool !== undefined) pool.capacity = capacity.pool;

  const checked = servers.find((s) => s.check);
  if (checked) {
    const hc: Record<string, unknown> = {};
    const chk = st.options.get('httpchk');
    const sendUri = st.httpCheckSend?.words.findIndex((w) => w.text === 'uri') ?? -1;
    const uri = sendUri >= 0 ? st.httpCheckSend!.words[sendUri + 1]?.text : chk?.on ? chk.line.words.slice(2).map((w) => w.text).find((w) => w.startsWith('/')) : undefined;
    hc.path = uri && uri.startsWith('/') ? uri.split('?')[0] || '/' : '/';
    const inter = checked.inter ?? '2000ms';
    hc.interval = inter;
    const tCheck = timeoutOf(st, 'check', sink);
    // Without `timeout check` HAProxy bounds a check by the connect timeout and inter; it
    // never starts a check before the last one ended, so the model's timeout stays below inter.
    const connect = timeoutOf(st, 'connect', sink)?.value;
    const derived = connect && ms(connect) < ms(inter) ? connect : `${Math.max(1, Math.floor(ms(inter) / 2))}ms`;
    hc.timeout = tCheck?.value ?? derived;
    if (checked.rise !== undefined) hc.healthyThreshold = checked.rise;
    if (checked.fall !== undefined) hc.unhealthyThreshold = checked.fall;
    pool.healthCheck = hc;
    if (checkAt) sink.at([...pp, 'healthCheck'], checkAt);
    if (tCheck) sink.at([...pp, 'healthCheck', 'timeout'], tCheck.at);
    if (checked.words.get('fall')) sink.at([...pp, 'healthCheck', 'unhealthyThreshold'], checked.words.get('fall')!);
  }
  const slow = servers.find((s) => s.slowstart);
  if (slow?.slowstart) pool.slowStart = slow.slowstart;
  const timeouts: Record<string, string> = {};
  for (const [key, model] of [['connect', 'connect'], ['server', 'request']] as const) {
    const t = timeoutOf(st, key, sink);
    if (!t) continue;
    timeouts[model] = t.value;
    sink.at([...pp, 'timeouts', model], t.at);
  }
  if (Object.keys(timeouts).length) pool.timeouts = timeouts;
  const sticky = stickiness(proxy, servers, sink);
  if (sticky) {
    pool.stickiness = sticky.value;
    sink.at([...pp, 'stickiness'], sticky.at);
  }
  return pool;
}

/**
 * `cookie NAME insert|rewrite|prefix …` with `cookie VALUE` on servers (configuration.txt 4.2
 * `cookie`): cookie persistence, the model's `stickiness`. Its lifetime is the `Max-Age` the
 * cookie carries (`attr Max-Age=N`, as evenkeel's export writes it), else `maxlife`. Without a
 * server that has a value HAProxy sticks nothing, so there is nothing to model.
 */
function stickiness(proxy: Proxy, servers: Server[], sink: Sink): { value: Record<string, unknown>; at: Word } | undefined {
  const line = [...proxy.section.body].reverse().find((l) => l.words[0].text === 'cookie');
  if (!line || !line.words[1] || !servers.some((s) => s.words.has('cookie'))) return undefined;
  const words = line.words.map((w) => w.text);
  const value: Record<string, unknown> = { cookie: words[1] };
  for (let i = 2; i < words.length; i++) {
    const age = words[i] === 'attr' ? /^max-age=(\d+)$/i.exec(words[i + 1] ?? '') : null;
    if (age) value.ttl = `${age[1]}s`;
    else if (words[i] === 'maxlife' && value.ttl === undefined) {
      const t = haproxyTime(words[i + 1] ?? '');
      if (t) value.ttl = t;
    }
  }
  if (words.includes('rewrite') || words.includes('prefix')) sink.partial(line.words[0], `backend ${proxy.name}: cookie ${words[1]} ${words.includes('rewrite') ? 'rewrite' : 'prefix'} sticks by a cookie the application sets; the model takes it as cookie insertion, the same once a client has it`);
  return { value, at: line.words[1] };
}
