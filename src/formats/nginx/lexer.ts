/**
 * nginx.conf text → a tree of directives, every one with its file:line:column.
 *
 * Written by hand, following nginx's own tokenizer (ngx_conf_read_token in
 * src/core/ngx_conf_file.c), because the npm nginx.conf parsers drop positions and
 * findings must point into the file. Mirrors its rules: `;` ends a directive, `{ … }` is a
 * block, `#` starts a comment only where a token could start, `"…"`/`'…'` quote, a
 * backslash escapes, `${var}` braces stay inside a token, and a `}` inside a token is part
 * of it. Never throws: the first syntax error becomes a `SyntaxProblem` (nginx stops there too).
 */

/** A place in a file; line and column are 1-based. */
export interface Pos {
  file: string;
  line: number;
  column: number;
}

/** One argument of a directive, unquoted and unescaped. */
export interface Arg {
  value: string;
  quoted: boolean;
  pos: Pos;
}

/** `name arg…;` or `name arg… { block }`. */
export interface Directive {
  name: string;
  args: Arg[];
  block?: Directive[];
  pos: Pos;
  /** Line of the `;` or `{` that ends the directive's head: `# evenkeel:` comments there belong to it. */
  endLine: number;
  /** The `# evenkeel: …` comment on that line, without the prefix. */
  evenkeel?: { text: string; pos: Pos };
}

/** A `# evenkeel: …` comment on a line of its own. */
export interface FreeComment {
  text: string;
  pos: Pos;
}

/** Why the text is not nginx.conf, and where. */
export interface SyntaxProblem {
  message: string;
  pos: Pos;
}

/** What the lexer returns for one file. */
export interface Parsed {
  directives: Directive[];
  comments: FreeComment[];
  problem?: SyntaxProblem;
}

const EVENKEEL_COMMENT = /^#\s*evenkeel:\s*(.*)$/;
/** Real configs nest a few levels (http → server → location → if); past this it is not a config. */
const MAX_DEPTH = 64;

const isSpace = (c: string) => c === ' ' || c === '\t' || c === '\r' || c === '\n';

/** Parses one file's text. Positions name `file`. */
export function parseNginx(text: string, file: string): Parsed {
  const root: Directive[] = [];
  const stack: { list: Directive[]; open?: Directive }[] = [{ list: root }];
  const comments: FreeComment[] = [];
  let args: Arg[] = [];
  let headPos: Pos | undefined;
  let line = 1;
  let col = 0;
  let lastEnded: Directive | undefined;
  const at = (l: number, c: number): Pos => ({ file, line: l, column: c });
  const fail = (message: string, pos: Pos): Parsed => ({ directives: root, comments, problem: { message, pos } });

  const endDirective = (block: boolean, pos: Pos): SyntaxProblem | undefined => {
    if (args.length === 0) return { message: `unexpected "${block ? '{' : ';'}"`, pos };
    const [name, ...rest] = args;
    const d: Directive = { name: name.value, args: rest, pos: headPos ?? name.pos, endLine: pos.line };
    stack[stack.length - 1].list.push(d);
    if (block) {
      if (stack.length > MAX_DEPTH) return { message: `blocks nested more than ${MAX_DEPTH} deep`, pos };
      d.block = [];
      stack.push({ list: d.block, open: d });
    }
    lastEnded = d;
    args = [];
    headPos = undefined;
    return undefined;
  };

  let i = 0;
  const n = text.length;
  while (i < n) {
    const ch = text[i];
    if (ch === '\n') {
      line++;
      col = 0;
      i++;
      continue;
    }
    col++;
    if (isSpace(ch)) {
      i++;
      continue;
    }
    const pos = at(line, col);
    if (ch === ';' || ch === '{') {
      const p = endDirective(ch === '{', pos);
      if (p) return fail(p.message, p.pos);
      i++;
      continue;
    }
    if (ch === '}') {
      if (args.length > 0) return fail('unexpected "}": the directive before it has no ";"', pos);
      if (stack.length === 1) return fail('unexpected "}": no block is open here', pos);
      stack.pop();
      i++;
      continue;
    }
    if (ch === '#') {
      let end = text.indexOf('\n', i);
      if (end < 0) end = n;
      const m = EVENKEEL_COMMENT.exec(text.slice(i, end).trimEnd());
      if (m) {
        if (lastEnded && lastEnded.endLine === line && args.length === 0) lastEnded.evenkeel = { text: m[1], pos };
        else comments.push({ text: m[1], pos });
      }
      col += end - i - 1;
      i = end;
      continue;
    }
    // A token: quoted or bare.
    if (ch === '"' || ch === "'") {
      let value = '';
      let j = i + 1;
      let l = line;
      let c = col;
      let closed = false;
      while (j < n) {
        const cj = text[j];
        if (cj === '\n') { l++; c = 0; } else c++;
        if (cj === '\\' && j + 1 < n) {
          value += unescape(text[j + 1]);
          if (text[j + 1] === '\n') { l++; c = 0; } else c++;
          j += 2;
          continue;
        }
        if (cj === ch) { closed = true; j++; break; }
        value += cj;
        j++;
      }
      if (!closed) return fail(`unterminated quote: the ${ch === '"' ? 'double' : 'single'} quote opened here is never closed`, pos);
      const next = text[j];
      if (next !== undefined && !isSpace(next) && next !== ';' && next !== '{') {
        return fail(`unexpected "${next}" after a quoted string (nginx needs a space, ";" or "{" there)`, { file, line: l, column: c + 1 });
      }
      if (args.length === 0) headPos = pos;
      args.push({ value, quoted: true, pos });
      line = l;
      col = c;
      i = j;
      continue;
    }
    let value = '';
    let j = i;
    let c = col - 1;
    let variable = false;
    while (j < n) {
      const cj = text[j];
      if (cj === '{' && variable) { value += cj; j++; c++; continue; }
      variable = false;
      if (isSpace(cj) || cj === ';' || cj === '{') break;
      if (cj === '\\' && j + 1 < n && text[j + 1] !== '\n') {
        value += unescape(text[j + 1]);
        j += 2;
        c += 2;
        continue;
      }
      if (cj === '$') variable = true;
      value += cj;
      j++;
      c++;
    }
    if (args.length === 0) headPos = pos;
    args.push({ value, quoted: false, pos });
    col = c;
    i = j;
  }
  const eof = at(line, col + 1);
  if (args.length > 0) return fail(`unexpected end of file: the directive "${args[0].value}" at line ${args[0].pos.line} has no ";"`, eof);
  if (stack.length > 1) {
    const open = stack[stack.length - 1].open!;
    return fail(`unexpected end of file, expecting "}": the block "${open.name}" opened at line ${open.pos.line} is never closed`, open.pos);
  }
  return { directives: root, comments };
}

function unescape(c: string): string {
  if (c === 't') return '\t';
  if (c === 'r') return '\r';
  if (c === 'n') return '\n';
  if (c === '"' || c === "'" || c === '\\') return c;
  return `\\${c}`;
}
