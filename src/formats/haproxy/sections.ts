/**
 * haproxy.cfg lines → sections (global, defaults, frontend, backend, listen, …), and the
 * settings each proxy inherits from its defaults section. HAProxy recognises a section by its
 * keyword as the first word of a line; a proxy takes the last `defaults` section above it, or
 * the one it names with `from`.
 */
import type { Line, Word } from './lexer.js';

/** Section keywords of HAProxy 2.6; only the proxy ones and defaults are read further. */
export const SECTION_KEYWORDS = new Set(['global', 'defaults', 'frontend', 'backend', 'listen', 'peers', 'resolvers', 'userlist', 'mailers', 'program', 'http-errors', 'ring', 'cache', 'fcgi-app', 'crt-store', 'traces', 'log-forward']);

export type ProxyKind = 'frontend' | 'backend' | 'listen';

/** One section: its header line and the lines below it. */
export interface Section {
  kind: string;
  name?: string;
  from?: string;
  head: Line;
  body: Line[];
}

/** What a proxy inherits from `defaults` and may override: the last line of each wins. */
export interface Settings {
  mode?: Line;
  balance?: Line;
  hashType?: Line;
  timeouts: Map<string, Line>;
  options: Map<string, { on: boolean; line: Line }>;
  defaultServer: Line[];
  defaultBackend?: Line;
  httpCheckSend?: Line;
}

/** A frontend, backend or listen with its effective settings. */
export interface Proxy {
  kind: ProxyKind;
  name: string;
  section: Section;
  settings: Settings;
}

/** Splits lines into sections; lines before the first section keyword are returned as `stray`. */
export function splitSections(lines: Line[]): { sections: Section[]; stray: Line[] } {
  const sections: Section[] = [];
  const stray: Line[] = [];
  let cur: Section | undefined;
  for (const line of lines) {
    const kw = line.words[0].text;
    if (SECTION_KEYWORDS.has(kw)) {
      const args = line.words.slice(1).map((w) => w.text);
      const fromAt = args.indexOf('from');
      cur = {
        kind: kw,
        name: args[0] !== undefined && args[0] !== 'from' ? args[0] : undefined,
        from: fromAt >= 0 ? args[fromAt + 1] : undefined,
        head: line,
        body: [],
      };
      sections.push(cur);
    } else if (cur) cur.body.push(line);
    else stray.push(line);
  }
  return { sections, stray };
}

function emptySettings(): Settings {
  return { timeouts: new Map(), options: new Map(), defaultServer: [] };
}

function copySettings(s: Settings): Settings {
  return { ...s, timeouts: new Map(s.timeouts), options: new Map(s.options), defaultServer: [...s.defaultServer] };
}

/** Applies one line of a defaults or proxy section to `s`, when it is an inheritable setting. */
function apply(s: Settings, line: Line): void {
  const [kw, a1] = line.words.map((w) => w.text);
  switch (kw) {
    case 'mode':
      s.mode = line;
      break;
    case 'balance':
      s.balance = line;
      break;
    case 'hash-type':
      s.hashType = line;
      break;
    case 'timeout':
      if (a1) s.timeouts.set(a1, line);
      break;
    case 'option':
      if (a1) s.options.set(a1, { on: true, line });
      break;
    case 'no':
      if (a1 === 'option' && line.words[2]) s.options.set(line.words[2].text, { on: false, line });
      break;
    case 'default-server':
      s.defaultServer.push(line);
      break;
    case 'default_backend':
      s.defaultBackend = line;
      break;
    case 'http-check':
      if (a1 === 'send') s.httpCheckSend = line;
      break;
    default:
      break;
  }
}

/** Problems found while resolving sections, positioned at the word they are about. */
export interface SectionProblem {
  word: Word;
  message: string;
}

/** Every frontend/backend/listen with the settings it inherits and sets itself. */
export function resolveProxies(sections: Section[]): { proxies: Proxy[]; problems: SectionProblem[] } {
  const problems: SectionProblem[] = [];
  const named = new Map<string, Settings>();
  let last: Settings = emptySettings();
  const proxies: Proxy[] = [];
  for (const sec of sections) {
    if (sec.kind === 'defaults' || sec.kind === 'frontend' || sec.kind === 'backend' || sec.kind === 'listen') {
      let base = last;
      if (sec.from !== undefined) {
        const found = named.get(sec.from);
        const word = sec.head.words.find((_, i) => i > 0 && sec.head.words[i - 1].text === 'from') ?? sec.head.words[0];
        if (found) base = found;
        else problems.push({ word, message: `${sec.kind} ${sec.name ?? ''} inherits from defaults "${sec.from}", which is not declared above it` });
      }
      const s = copySettings(base);
      for (const line of sec.body) apply(s, line);
      if (sec.kind === 'defaults') {
        last = s;
        if (sec.name !== undefined) named.set(sec.name, s);
        continue;
      }
      if (sec.name === undefined) {
        problems.push({ word: sec.head.words[0], message: `${sec.kind} without a name` });
        continue;
      }
      proxies.push({ kind: sec.kind, name: sec.name, section: sec, settings: s });
    }
  }
  return { proxies, problems };
}

/** True when the text looks like a haproxy.cfg: a section keyword at the very start of a line. */
export function looksLikeHaproxy(text: string): boolean {
  // `listen` is also an NGINX directive (`listen 80;`, inside a server block and indented):
  // only an unindented keyword followed by names, without `;` or `{`, counts.
  return /^(global|defaults|frontend|backend|listen)([ \t]+[^\s;{}]+)*[ \t]*(#.*)?\r?$/m.test(text.slice(0, 1 << 20));
}
