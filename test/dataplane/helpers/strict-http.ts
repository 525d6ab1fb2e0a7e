/**
 * A deliberately strict HTTP/1.1 message reader for the fuzz and desync tests: it is the judge
 * of "nothing ambiguous crossed the proxy". A stream passes only if it splits into messages
 * with CRLF line ends, no obs-fold, token header names, at most one Content-Length, never
 * Content-Length beside Transfer-Encoding, and Transfer-Encoding (if any) exactly `chunked`
 * with well-formed chunks. A message cut off at the end of the stream is reported as `partial`.
 */

/** One message read from the stream. */
export interface StrictMessage {
  /** Request line or status line. */
  start: string;
  headers: [string, string][];
  body: string;
}

/** What a stream held. */
export interface StrictRead {
  messages: StrictMessage[];
  /** Why the stream is not clean HTTP/1.1 (undefined when it is). */
  error?: string;
  /** Bytes of an unfinished message at the end. */
  partial: boolean;
}

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** Reads `text` (latin1) as requests (`kind: 'request'`) or responses. */
/** `methods`: for responses, the methods of the requests they answer, in order (a HEAD's answer has no body). */
export function readStrict(text: string, kind: 'request' | 'response', opts: { methods?: readonly string[] } = {}): StrictRead {
  const messages: StrictMessage[] = [];
  let at = 0;
  while (at < text.length) {
    const end = text.indexOf('\r\n\r\n', at);
    if (end < 0) return { messages, partial: true };
    const head = text.slice(at, end);
    if (/(^|[^\r])\n|\r(?!\n)/.test(head)) return { messages, partial: false, error: `bare CR or LF in a head: ${JSON.stringify(head.slice(0, 80))}` };
    const lines = head.split('\r\n');
    const start = lines[0];
    const startOk = kind === 'request' ? /^[A-Z]+ \S+ HTTP\/1\.1$/.test(start) : /^HTTP\/1\.1 [1-5]\d\d( [^\r\n]*)?$/.test(start);
    if (!startOk) return { messages, partial: false, error: `bad start line ${JSON.stringify(start.slice(0, 80))}` };
    const headers: [string, string][] = [];
    for (const line of lines.slice(1)) {
      if (line.startsWith(' ') || line.startsWith('\t')) return { messages, partial: false, error: 'obs-fold' };
      const colon = line.indexOf(':');
      const name = colon > 0 ? line.slice(0, colon) : '';
      if (!TOKEN.test(name)) return { messages, partial: false, error: `bad header name in ${JSON.stringify(line.slice(0, 60))}` };
      const value = line.slice(colon + 1).trim();
      if (/[\0-\x08\x0a-\x1f\x7f]/.test(value)) return { messages, partial: false, error: `control byte in ${name}` };
      headers.push([name.toLowerCase(), value]);
    }
    const cls = headers.filter(([n]) => n === 'content-length');
    const tes = headers.filter(([n]) => n === 'transfer-encoding');
    if (cls.length > 1) return { messages, partial: false, error: 'several Content-Length' };
    if (cls.length === 1 && tes.length > 0) return { messages, partial: false, error: 'Content-Length with Transfer-Encoding' };
    if (tes.length > 1 || (tes.length === 1 && tes[0][1].toLowerCase() !== 'chunked')) return { messages, partial: false, error: `Transfer-Encoding ${tes.map(([, v]) => v).join(', ')}` };
    if (cls.length === 1 && !/^\d{1,15}$/.test(cls[0][1])) return { messages, partial: false, error: `Content-Length ${cls[0][1]}` };
    at = end + 4;
    const status = kind === 'response' ? Number(start.slice(9, 12)) : 0;
    const isHead = kind === 'response' && opts.methods?.[messages.filter((m) => !/^HTTP\/1\.1 1/.test(m.start)).length] === 'HEAD';
    const bodiless = kind === 'response' && (status < 200 || status === 204 || status === 304 || isHead);
    let body = '';
    if (bodiless) {
      // no body
    } else if (tes.length === 1) {
      for (;;) {
        const lineEnd = text.indexOf('\r\n', at);
        if (lineEnd < 0) return { messages, partial: true };
        const size = text.slice(at, lineEnd);
        if (!/^[0-9a-fA-F]{1,8}$/.test(size)) return { messages, partial: false, error: `bad chunk size ${JSON.stringify(size.slice(0, 20))}` };
        const n = parseInt(size, 16);
        at = lineEnd + 2;
        if (n === 0) {
          if (text.length < at + 2) return { messages, partial: true };
          if (text.slice(at, at + 2) !== '\r\n') return { messages, partial: false, error: 'trailers or junk after the last chunk' };
          at += 2;
          break;
        }
        if (text.length < at + n + 2) return { messages, partial: true };
        body += text.slice(at, at + n);
        if (text.slice(at + n, at + n + 2) !== '\r\n') return { messages, partial: false, error: 'chunk without CRLF' };
        at += n + 2;
      }
    } else if (cls.length === 1) {
      const n = Number(cls[0][1]);
      if (text.length < at + n) return { messages, partial: true };
      body = text.slice(at, at + n);
      at += n;
    } else if (kind === 'response') {
      // Close-delimited body: the rest of the stream.
      body = text.slice(at);
      at = text.length;
    }
    messages.push({ start, headers, body });
  }
  return { messages, partial: false };
}
