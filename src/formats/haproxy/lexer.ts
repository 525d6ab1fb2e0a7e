/**
 * The haproxy.cfg lexer: text → lines of words, each word with the line and column it starts
 * at, following HAProxy's own rules (configuration.txt §2.2 quoting and escaping, §2.3
 * environment variables): space and tab separate words; `#` outside quotes starts a comment;
 * `\` escapes outside quotes and inside double quotes; `"…"` is weak quoting, where `$NAME`,
 * `${NAME}` and `${NAME-default}` expand; `'…'` is strong quoting, where nothing is interpreted.
 *
 * Hand-written on purpose: the npm haproxy.cfg parsers return keywords and arguments but drop
 * positions, and every finding evenkeel reports must point at its haproxy.cfg line:column.
 */

/** One word of a line, after quote removal and expansion, and where it starts (1-based). */
export interface Word {
  text: string;
  line: number;
  column: number;
}

/** One non-empty line: its words, and the comment after them (without `#`), if any. */
export interface Line {
  words: Word[];
  line: number;
  comment?: string;
}

/** Something the lexer had to guess at, with its position. */
export interface LexProblem {
  line: number;
  column: number;
  message: string;
  /** 'error' when HAProxy itself would refuse the line; 'partial' when it is only a guess. */
  kind: 'error' | 'partial';
}

/** Environment for `${NAME}` expansion (the reader is pure: the caller passes process.env). */
export type Env = Readonly<Record<string, string | undefined>>;

const ESCAPES: Record<string, string> = { n: '\n', r: '\r', t: '\t' };

/** Splits haproxy.cfg text into lines of positioned words. Never throws. */
export function lex(text: string, env: Env = {}): { lines: Line[]; problems: LexProblem[] } {
  const lines: Line[] = [];
  const problems: LexProblem[] = [];
  const raw = text.split('\n');
  for (let n = 0; n < raw.length; n++) {
    const s = raw[n].endsWith('\r') ? raw[n].slice(0, -1) : raw[n];
    const out = lexLine(s, n + 1, env, problems);
    if (out.words.length > 0 || out.comment !== undefined) lines.push(out);
  }
  return { lines: lines.filter((l) => l.words.length > 0), problems };
}

function lexLine(s: string, lineNo: number, env: Env, problems: LexProblem[]): Line {
  const words: Word[] = [];
  let cur: string | undefined;
  let start = 0;
  let comment: string | undefined;
  const begin = (i: number) => {
    if (cur === undefined) {
      cur = '';
      start = i;
    }
  };
  const end = () => {
    if (cur !== undefined) words.push({ text: cur, line: lineNo, column: start + 1 });
    cur = undefined;
  };
  let i = 0;
  while (i < s.length) {
    const c = s[i];
    if (c === ' ' || c === '\t') {
      end();
      i++;
    } else if (c === '#') {
      comment = s.slice(i + 1);
      break;
    } else if (c === '\\') {
      begin(i);
      const [value, used] = escape(s, i);
      cur += value;
      i += used;
    } else if (c === "'") {
      begin(i);
      const close = s.indexOf("'", i + 1);
      if (close < 0) {
        problems.push({ line: lineNo, column: i + 1, message: 'unterminated single quote', kind: 'error' });
        cur += s.slice(i + 1);
        i = s.length;
      } else {
        cur += s.slice(i + 1, close);
        i = close + 1;
      }
    } else if (c === '"') {
      begin(i);
      let j = i + 1;
      let closed = false;
      while (j < s.length) {
        const d = s[j];
        if (d === '"') {
          closed = true;
          j++;
          break;
        }
        if (d === '\\') {
          const [value, used] = escape(s, j);
          cur += value;
          j += used;
        } else if (d === '$') {
          const [value, used] = expand(s, j, env, lineNo, problems);
          cur += value;
          j += used;
        } else {
          cur += d;
          j++;
        }
      }
      if (!closed) problems.push({ line: lineNo, column: i + 1, message: 'unterminated double quote', kind: 'error' });
      i = j;
    } else {
      begin(i);
      cur += c;
      i++;
    }
  }
  end();
  return { words, line: lineNo, comment };
}

/** `\x` at s[i]: the character it stands for and how many characters it used. */
function escape(s: string, i: number): [string, number] {
  const next = s[i + 1];
  if (next === undefined) return ['\\', 1];
  if (next in ESCAPES) return [ESCAPES[next], 2];
  if (next === 'x' && /^[0-9A-Fa-f]{2}$/.test(s.slice(i + 2, i + 4))) return [String.fromCharCode(parseInt(s.slice(i + 2, i + 4), 16)), 4];
  return [next, 2];
}

/** `$NAME`, `${NAME}`, `${NAME-default}` or `${NAME[*]}` at s[i] inside double quotes. */
function expand(s: string, i: number, env: Env, lineNo: number, problems: LexProblem[]): [string, number] {
  let name: string;
  let fallback: string | undefined;
  let used: number;
  if (s[i + 1] === '{') {
    const close = s.indexOf('}', i + 2);
    if (close < 0) {
      problems.push({ line: lineNo, column: i + 1, message: 'unterminated ${ in an environment variable', kind: 'error' });
      return [s.slice(i), s.length - i];
    }
    const inner = s.slice(i + 2, close).replace(/\[\*\]$/, '');
    const dash = inner.indexOf('-');
    name = dash >= 0 ? inner.slice(0, dash) : inner;
    fallback = dash >= 0 ? inner.slice(dash + 1) : undefined;
    used = close + 1 - i;
  } else {
    const m = /^[A-Za-z_.][A-Za-z0-9_]*/.exec(s.slice(i + 1));
    if (!m) return ['$', 1];
    name = m[0];
    used = 1 + m[0].length;
  }
  const value = env[name];
  if (value !== undefined) return [value, used];
  if (fallback !== undefined) return [fallback, used];
  problems.push({ line: lineNo, column: i + 1, message: `environment variable ${name} is not set here, so it expands to nothing; set it when running evenkeel as when running haproxy`, kind: 'partial' });
  return ['', used];
}
