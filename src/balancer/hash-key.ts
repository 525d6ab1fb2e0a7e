/**
 * What consistent-hash hashes on (`hashOn`): header:NAME, cookie:NAME, client-ip or path.
 * Compiled once per pool into a function, so the data plane does no parsing of `hashOn` per
 * request, and the analysis extracts keys from a traffic sample with the very same code.
 */

/** The parts of a request the router and the hash key look at. Header names are lower-case. */
export interface RequestInfo {
  method: string;
  host: string;
  path: string;
  headers: Readonly<Record<string, string | string[] | undefined>>;
  clientIp?: string;
}

/** Extracts the hash key, or undefined when the request does not carry it. */
export type KeyExtractor = (req: RequestInfo) => string | undefined;

/** Compiles `hashOn` into an extractor. Throws on a form the schema would not have allowed. */
export function compileKeyExtractor(hashOn: string): KeyExtractor {
  if (hashOn === 'client-ip') return (req) => req.clientIp;
  if (hashOn === 'path') return (req) => req.path;
  const colon = hashOn.indexOf(':');
  const kind = hashOn.slice(0, colon);
  const name = hashOn.slice(colon + 1).toLowerCase();
  if (kind === 'header' && name === 'host') {
    // A traffic sample keeps Host in `host`, not in headers; the data plane has both.
    return (req) => {
      const v = req.headers.host;
      return (Array.isArray(v) ? v[0] : v) ?? (req.host || undefined);
    };
  }
  if (kind === 'header') {
    return (req) => {
      const v = req.headers[name];
      return Array.isArray(v) ? v[0] : v;
    };
  }
  if (kind === 'cookie') {
    const cookieName = hashOn.slice(colon + 1);
    return (req) => cookieValue(req.headers.cookie, cookieName);
  }
  throw new Error(`unsupported hashOn ${hashOn}`);
}

/** The value of one cookie in a Cookie header (RFC 6265 §5.4: pairs separated by "; "). */
export function cookieValue(header: string | string[] | undefined, name: string): string | undefined {
  if (header === undefined) return undefined;
  const text = Array.isArray(header) ? header.join('; ') : header;
  let start = 0;
  while (start < text.length) {
    let end = text.indexOf(';', start);
    if (end < 0) end = text.length;
    const eq = text.indexOf('=', start);
    if (eq > start && eq < end && text.slice(start, eq).trim() === name) return text.slice(eq + 1, end).trim();
    start = end + 1;
  }
  return undefined;
}
