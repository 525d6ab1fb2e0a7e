/**
 * Where nginx.conf text comes from: the main file, its `include`s (globs, resolved as nginx
 * does: a relative path is relative to the main config's folder, its `conf_prefix`), and
 * `nginx -T` dumps, whose `# configuration file PATH:` markers let every position point at
 * the original file. Include loops, includes that leave the config's folder, and unreadable
 * includes become problems with the include's position, never exceptions.
 */
import { posix } from 'node:path';
import { parseNginx, type Directive, type FreeComment, type Pos, type SyntaxProblem } from './lexer.js';

/** File access the reader may use; both optional, so the reader stays pure for text input. */
export interface SourceAccess {
  /** The text of a file, or undefined when it cannot be read. */
  readFile?: (path: string) => string | undefined;
  /** The entries (names) of a folder, or undefined when it cannot be listed. Needed for globs. */
  listDir?: (dir: string) => string[] | undefined;
}

/** A problem met while following includes. */
export interface IncludeProblem {
  kind: 'loop' | 'escape' | 'unreadable' | 'syntax' | 'depth';
  message: string;
  pos: Pos;
}

/** The whole configuration with includes spliced in, as nginx sees it after reading. */
export interface Expanded {
  directives: Directive[];
  comments: FreeComment[];
  problems: IncludeProblem[];
  /** The first syntax error; nginx would refuse to start, so nothing else is read. */
  syntax?: SyntaxProblem;
}

const DUMP_MARKER = /^# configuration file (.+):$/gm;
const MAX_INCLUDE_DEPTH = 16;
/** All files of one configuration together, includes counted each time they are read. */
const MAX_TOTAL_CHARS = 32 * 1048576;

/** Splits an `nginx -T` dump into its files; undefined when `text` is not a dump. */
export function splitDump(text: string): { main: string; files: Map<string, string> } | undefined {
  const marks = [...text.matchAll(DUMP_MARKER)];
  if (marks.length === 0) return undefined;
  const files = new Map<string, string>();
  marks.forEach((m, k) => {
    const start = m.index! + m[0].length + 1;
    const end = k + 1 < marks.length ? marks[k + 1].index! : text.length;
    // nginx -T prints each file verbatim followed by one empty line.
    let body = text.slice(start, end);
    if (k + 1 < marks.length && body.endsWith('\n\n')) body = body.slice(0, -1);
    files.set(m[1], body);
  });
  return { main: marks[0][1], files };
}

/** File access backed by a dump's files. */
export function dumpAccess(files: Map<string, string>): Required<SourceAccess> {
  return {
    readFile: (p) => files.get(p),
    listDir: (dir) => {
      const names = [...files.keys()].filter((f) => posix.dirname(f) === dir).map((f) => posix.basename(f));
      const subdirs = [...files.keys()].filter((f) => f.startsWith(`${dir}/`)).map((f) => f.slice(dir.length + 1).split('/')[0]);
      return [...new Set([...names, ...subdirs])];
    },
  };
}

/**
 * Parses `text` (the file `file`) and splices in every include. `confined` keeps includes
 * inside the main file's folder (off for a dump: it holds exactly what nginx read).
 */
export function expand(text: string, file: string, access: SourceAccess, confined: boolean): Expanded {
  const prefix = posix.dirname(toPosix(file));
  let budget = MAX_TOTAL_CHARS;
  const out: Expanded = { directives: [], comments: [], problems: [] };
  const visit = (src: string, name: string, chain: string[]): Directive[] | undefined => {
    const parsed = parseNginx(src, name);
    out.comments.push(...parsed.comments);
    if (parsed.problem) {
      out.syntax ??= parsed.problem;
      return undefined;
    }
    const walk = (list: Directive[]): Directive[] | undefined => {
      const result: Directive[] = [];
      for (const d of list) {
        if (d.name === 'include' && !d.block) {
          const spliced = include(d, chain);
          if (spliced === undefined) return undefined;
          result.push(...spliced);
          continue;
        }
        if (d.block) {
          const inner = walk(d.block);
          if (inner === undefined) return undefined;
          d.block = inner;
        }
        result.push(d);
      }
      return result;
    };
    return walk(parsed.directives);
  };

  const include = (d: Directive, chain: string[]): Directive[] | undefined => {
    const arg = d.args[0];
    if (!arg || d.args.length !== 1) {
      out.syntax ??= { message: 'include takes exactly one file name or glob', pos: d.pos };
      return undefined;
    }
    const target = posix.normalize(posix.isAbsolute(toPosix(arg.value)) ? toPosix(arg.value) : posix.join(prefix, toPosix(arg.value)));
    const inside = posix.relative(prefix, target);
    if (confined && (inside === '..' || inside.startsWith('../') || posix.isAbsolute(inside))) {
      out.problems.push({ kind: 'escape', message: `include "${arg.value}" leaves the config's folder (${prefix}): it resolves to ${target}`, pos: d.pos });
      return [];
    }
    if (chain.length >= MAX_INCLUDE_DEPTH) {
      out.problems.push({ kind: 'depth', message: `include "${arg.value}" is nested ${chain.length} deep; evenkeel stops at ${MAX_INCLUDE_DEPTH}`, pos: d.pos });
      return [];
    }
    const wild = /[*?[]/.test(target);
    const paths = wild ? glob(target, access) : [target];
    if (paths === undefined) {
      out.problems.push({ kind: 'unreadable', message: `include "${arg.value}" was not read: the folder cannot be listed here`, pos: d.pos });
      return [];
    }
    const spliced: Directive[] = [];
    for (const p of paths) {
      if (chain.includes(p)) {
        out.problems.push({ kind: 'loop', message: `include "${arg.value}" loops: ${[...chain.slice(chain.indexOf(p)), p].map((f) => posix.basename(f)).join(' → ')}`, pos: d.pos });
        continue;
      }
      const src = access.readFile?.(p);
      if (src !== undefined && (budget -= src.length) < 0) {
        out.problems.push({ kind: 'unreadable', message: `include "${arg.value}" was not read: the included files add up to more than ${MAX_TOTAL_CHARS / 1048576} MiB`, pos: d.pos });
        return [];
      }
      if (src === undefined) {
        out.problems.push({ kind: 'unreadable', message: `include "${arg.value}" was not read: ${access.readFile ? `${p} cannot be read` : 'no file access for text input'}`, pos: d.pos });
        continue;
      }
      const inner = visit(src, p, [...chain, p]);
      if (inner === undefined) return undefined;
      spliced.push(...inner);
    }
    return spliced;
  };

  const top = visit(text, file, [posix.normalize(toPosix(file))]);
  if (top) out.directives = top;
  return out;
}

/** Expands a glob path segment by segment, sorted like glob(3); undefined when a folder cannot be listed. */
function glob(pattern: string, access: SourceAccess): string[] | undefined {
  if (!access.listDir) return undefined;
  const segs = pattern.split('/').filter((s) => s !== '');
  let bases = ['/'];
  for (let k = 0; k < segs.length; k++) {
    const seg = segs[k];
    if (!/[*?[]/.test(seg)) {
      bases = bases.map((b) => posix.join(b, seg));
      continue;
    }
    const re = globSegment(seg);
    const next: string[] = [];
    for (const b of bases) {
      const names = access.listDir(b);
      if (names === undefined) return k === 0 ? undefined : next;
      for (const name of [...names].sort()) if (re.test(name) && !(name.startsWith('.') && !seg.startsWith('.'))) next.push(posix.join(b, name));
    }
    bases = next;
  }
  return bases;
}

function globSegment(seg: string): RegExp {
  let re = '';
  for (let i = 0; i < seg.length; i++) {
    const c = seg[i];
    if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '[') {
      const close = seg.indexOf(']', i + 1);
      if (close < 0) re += '\\[';
      else {
        re += `[${seg.slice(i + 1, close).replace(/^!/, '^').replace(/\\/g, '\\\\')}]`;
        i = close;
      }
    } else re += c.replace(/[.+^${}()|\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

function toPosix(p: string): string {
  return p.replace(/\\/g, '/');
}
