/**
 * Header hygiene between client and backend. Hop-by-hop headers describe one connection and
 * must not be forwarded (RFC 9110 §7.6.1): Connection, Proxy-Connection, Keep-Alive, TE,
 * Transfer-Encoding, Upgrade, and every header the Connection header names — stricter than
 * nginx and HAProxy, which forward a Connection-named header. Framing is redone by undici and
 * Node on each side, so Transfer-Encoding and Trailer are never relayed.
 *
 * Names are compared lower-cased only when their length matches a name we care about: most
 * headers of a request are copied without a single string allocation.
 */

/** What the request scan learned besides the headers to send. */
export interface RequestHeadInfo {
  host: string;
  hostCount: number;
  contentLength: string | undefined;
  chunked: boolean;
}

const IGNORED_CONNECTION_TOKENS = new Set(['close', 'keep-alive', 'upgrade']);

/** Lower-case header names listed in Connection values (RFC 9110 §7.6.1), minus ones removed anyway. */
function connectionNames(raw: readonly string[]): string[] | undefined {
  let out: string[] | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    if (raw[i].length !== 10 || raw[i].toLowerCase() !== 'connection') continue;
    for (const token of raw[i + 1].split(',')) {
      const t = token.trim().toLowerCase();
      if (t === '' || IGNORED_CONNECTION_TOKENS.has(t)) continue;
      (out ??= []).push(t);
    }
  }
  return out;
}

/**
 * Builds the headers sent upstream (flat [name, value, …] as undici accepts) from the client's
 * raw headers, and fills `info`. X-Forwarded-For keeps the client's chain and appends exactly
 * one hop, the peer address; X-Forwarded-Proto and X-Forwarded-Host are set by us, never
 * trusted from the client. Host is kept as sent (RFC 9110 §7.2).
 */
export function upstreamRequestHeaders(raw: readonly string[], clientIp: string, proto: string, info: RequestHeadInfo): string[] {
  const named = connectionNames(raw);
  const out: string[] = [];
  let xff: string | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i];
    const len = name.length;
    // HTTP/2 pseudo-headers (RFC 9113 §8.3): `:authority` is the Host; the rest are in the request line.
    if (name.charCodeAt(0) === 58 /* : */) {
      if (name === ':authority' && info.hostCount++ === 0) {
        info.host = raw[i + 1];
        out.push('host', raw[i + 1]);
      }
      continue;
    }
    if (len === 2 || len === 4 || len === 6 || len === 7 || len === 10 || len === 14 || len === 15 || len === 16 || len === 17 || len === 19) {
      const lower = name.toLowerCase();
      switch (lower) {
        case 'host':
          // HTTP/2 may carry Host beside :authority; the same name twice is one host (RFC 9113 §8.3.1).
          if (info.hostCount > 0 && raw[i + 1] === info.host && raw[0].charCodeAt(0) === 58) continue;
          if (info.hostCount++ === 0) info.host = raw[i + 1];
          break;
        case 'content-length':
          info.contentLength = raw[i + 1];
          break;
        case 'transfer-encoding':
          info.chunked = true;
          continue;
        case 'x-forwarded-for':
          // Several X-Forwarded-For lines combine in order (RFC 9110 §5.3).
          xff = xff === undefined ? raw[i + 1] : `${xff}, ${raw[i + 1]}`;
          continue;
        // Expect: 100-continue is answered by Node on the client side; undici does not send it.
        case 'expect':
        case 'connection':
        case 'keep-alive':
        case 'proxy-connection':
        case 'te':
        case 'trailer':
        case 'upgrade':
        case 'x-forwarded-proto':
        case 'x-forwarded-host':
        // Credentials for this proxy are consumed here and never passed on (RFC 9110 §11.7.2).
        case 'proxy-authorization':
          continue;
      }
    }
    if (named !== undefined && named.includes(name.toLowerCase())) continue;
    out.push(name, raw[i + 1]);
  }
  out.push('x-forwarded-for', xff === undefined ? clientIp : `${xff}, ${clientIp}`, 'x-forwarded-proto', proto);
  if (info.host !== '') out.push('x-forwarded-host', info.host);
  return out;
}

/**
 * For an absolute-form target (RFC 9112 §3.2.2) the target's authority replaces the Host
 * header, and X-Forwarded-Host follows it. Rewrites the upstream header list in place.
 */
export function replaceHost(headers: string[], host: string): void {
  let seen = false;
  for (let i = 0; i < headers.length; i += 2) {
    const len = headers[i].length;
    if (len !== 4 && len !== 16) continue;
    const lower = headers[i].toLowerCase();
    if (lower === 'host' || lower === 'x-forwarded-host') {
      headers[i + 1] = host;
      if (lower === 'host') seen = true;
    }
  }
  if (!seen) headers.push('host', host, 'x-forwarded-host', host);
}

/**
 * Filters a backend's raw response headers (undici hands them over as Buffers, name then
 * value) into a flat string list for `res.writeHead`. Values are decoded as latin1, the
 * byte-preserving decoding of field values (RFC 9110 §5.5).
 */
export function downstreamResponseHeaders(raw: readonly Buffer[]): string[] {
  const out: string[] = [];
  let named: string[] | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i].toString('latin1');
    const len = name.length;
    if (len === 2 || len === 7 || len === 10 || len === 16 || len === 17) {
      const lower = name.toLowerCase();
      if (lower === 'connection') {
        named = connectionTokens(raw[i + 1].toString('latin1'), named);
        continue;
      }
      if (lower === 'keep-alive' || lower === 'transfer-encoding' || lower === 'upgrade' || lower === 'proxy-connection' || lower === 'te' || lower === 'trailer') continue;
    }
    out.push(name, raw[i + 1].toString('latin1'));
  }
  if (named === undefined) return out;
  // Headers named in Connection are hop-by-hop too (RFC 9110 §7.6.1): a second, rare pass.
  const kept: string[] = [];
  for (let i = 0; i < out.length; i += 2) if (!named.includes(out[i].toLowerCase())) kept.push(out[i], out[i + 1]);
  return kept;
}

function connectionTokens(value: string, into: string[] | undefined): string[] | undefined {
  for (const token of value.split(',')) {
    const t = token.trim().toLowerCase();
    if (t === '' || IGNORED_CONNECTION_TOKENS.has(t)) continue;
    (into ??= []).push(t);
  }
  return into;
}

/** Headers forwarded on a WebSocket upgrade: as for a request, but Connection: Upgrade and Upgrade are kept (RFC 9110 §7.8). */
export function upgradeRequestHeaders(raw: readonly string[], clientIp: string, proto: string, info: RequestHeadInfo): string[] {
  let upgrade = 'websocket';
  for (let i = 0; i < raw.length; i += 2) if (raw[i].length === 7 && raw[i].toLowerCase() === 'upgrade') upgrade = raw[i + 1];
  const out = upstreamRequestHeaders(raw, clientIp, proto, info);
  out.push('connection', 'Upgrade', 'upgrade', upgrade);
  return out;
}
