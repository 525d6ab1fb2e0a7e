/**
 * nginx's location precedence as an ordered, first-match-wins list of prefix routes.
 *
 * nginx (ngx_http_core_find_location): an exact `=` match ends the search; otherwise the
 * longest matching prefix is remembered; if it is `^~` the search ends; otherwise regexes are
 * tried in the order written and the first that matches wins; otherwise the longest prefix.
 * evenkeel routes are first-match prefixes, so the list is: exact locations, `^~` locations
 * (longest first), regexes that are an anchored literal (`~ ^/api/`), then plain prefixes
 * (longest first). A plain prefix that extends a `^~` one moves up beside it when no regex
 * overlaps it. What cannot be ordered this way is an EK529 finding.
 */
import type { Pos } from './lexer.js';
import type { Reading } from './reading.js';

/** A location as written. */
export interface Location<T> {
  modifier: '' | '=' | '^~' | '~' | '~*';
  uri: string;
  target?: T;
  pos: Pos;
}

/** A location placed in evenkeel order, with the prefix evenkeel will match. */
export interface Placed<T> {
  pathPrefix: string;
  target: T;
  pos: Pos;
  loc: Location<T>;
}

/** Orders one server's proxying locations by nginx precedence; reports what cannot be expressed. */
export function orderLocations<T>(locs: readonly Location<T>[], r: Reading, server: string): Placed<T>[] {
  const proxied = locs.filter((l): l is Location<T> & { target: T } => l.target !== undefined);
  const place = (l: Location<T> & { target: T }, pathPrefix: string): Placed<T> => ({ pathPrefix, target: l.target, pos: l.pos, loc: l });
  const prefixes = locs.filter((l) => l.modifier === '' || l.modifier === '^~' || l.modifier === '=');

  const exact: Placed<T>[] = [];
  const regex: Placed<T>[] = [];
  const stops: Placed<T>[] = [];
  const plain: Placed<T>[] = [];
  for (const l of proxied) {
    if ((l.modifier === '' || l.modifier === '^~' || l.modifier === '=') && !l.uri.startsWith('/')) {
      r.partial(l.pos, `location ${l.modifier ? `${l.modifier} ` : ''}${l.uri} in ${server} does not start with "/", so no request URI matches it as a prefix; it is left out (a regex needs "~")`);
    } else if (l.modifier === '=') {
      const overlaps = prefixes.some((o) => o !== l && o.uri.startsWith(l.uri));
      if (l.uri === '/' || overlaps) r.partial(l.pos, `location = ${l.uri} in ${server} is an exact match, which evenkeel routes cannot express next to the other locations; it is left out of the prediction`);
      else {
        r.partial(l.pos, `location = ${l.uri} in ${server} is an exact match; evenkeel predicts it as the prefix ${l.uri} (it has no longer location it could take requests from)`);
        exact.push(place(l, l.uri));
      }
    } else if (l.modifier === '~' || l.modifier === '~*') {
      const prefix = literalPrefix(l.uri);
      if (prefix === undefined) r.partial(l.pos, `location ${l.modifier} ${l.uri} in ${server} is a regex evenkeel cannot express as a path prefix; requests it would take are predicted to go to the prefix locations instead`);
      else {
        if (l.modifier === '~*' && /[A-Za-z]/.test(prefix)) r.partial(l.pos, `location ~* ${l.uri} in ${server} is case-insensitive; evenkeel predicts it as the case-sensitive prefix ${prefix}`);
        regex.push(place(l, prefix));
      }
    } else if (l.modifier === '^~') stops.push(place(l, l.uri));
    else plain.push(place(l, l.uri));
  }
  for (const l of locs) {
    if (l.target === undefined) r.partial(l.pos, `location ${l.modifier ? `${l.modifier} ` : ''}${l.uri} in ${server} does not proxy_pass to an upstream (nginx serves it itself); it is not part of the prediction`);
  }

  const byLength = (a: Placed<T>, b: Placed<T>) => b.pathPrefix.length - a.pathPrefix.length;
  stops.sort(byLength);
  plain.sort(byLength);
  // A plain prefix longer than a ^~ prefix it extends wins over it (it is the longest match),
  // so it must come first; safe only when no regex could match inside it.
  const early: Placed<T>[] = [];
  const late: Placed<T>[] = [];
  for (const p of plain) {
    const extendsStop = stops.some((s) => p.pathPrefix.startsWith(s.pathPrefix) && p.pathPrefix.length > s.pathPrefix.length);
    if (!extendsStop) {
      late.push(p);
      continue;
    }
    const overlap = regex.some((x) => x.pathPrefix.startsWith(p.pathPrefix) || p.pathPrefix.startsWith(x.pathPrefix));
    if (overlap) r.partial(p.pos, `location ${p.pathPrefix} in ${server} extends a ^~ location and overlaps a regex location; their precedence cannot be expressed as ordered prefixes`);
    early.push(p);
  }
  const head = [...stops, ...early].sort(byLength);
  return [...exact, ...head, ...regex, ...late];
}

/** `^/api/` → `/api/`; `^/static/.*` → `/static/`; undefined when the regex is more than an anchored literal. */
export function literalPrefix(re: string): string | undefined {
  if (!re.startsWith('^/')) return undefined;
  let out = '';
  let i = 1;
  for (; i < re.length; i++) {
    const c = re[i];
    if (c === '\\' && i + 1 < re.length && /[./\-_~%]/.test(re[i + 1])) {
      out += re[++i];
      continue;
    }
    if (/[A-Za-z0-9/_\-~%]/.test(c)) out += c;
    else break;
  }
  const rest = re.slice(i);
  return rest === '' || rest === '.*' ? out : undefined;
}
