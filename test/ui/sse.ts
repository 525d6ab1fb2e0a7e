/** A small server-sent-events client for the tests: real sockets, the stream parsed as it arrives. */
import http from 'node:http';

/** One SSE message (a comment line has event `:`). */
export interface SseMessage {
  event: string;
  data: string;
  id?: string;
}

/** An open stream: every message so far, and a way to wait for the next of a kind. */
export interface SseStream {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly messages: SseMessage[];
  /** The first message of `event` after the `from`-th message (default: any so far). */
  next(event: string, ms?: number, from?: number): Promise<SseMessage>;
  close(): void;
  /** Resolves when the server ends the stream. */
  readonly ended: Promise<void>;
}

/** Opens GET `path` on 127.0.0.1:`port` and parses it as an event stream (any status is returned, not thrown). */
export function openStream(port: number, path: string, headers: http.OutgoingHttpHeaders = {}): Promise<SseStream> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path, headers: { accept: 'text/event-stream', ...headers }, agent: false }, (res) => {
      const messages: SseMessage[] = [];
      const waiters = new Set<() => void>();
      let buf = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buf += chunk;
        for (let end = buf.indexOf('\n\n'); end >= 0; end = buf.indexOf('\n\n')) {
          const block = buf.slice(0, end);
          buf = buf.slice(end + 2);
          const m: SseMessage = { event: 'message', data: '' };
          const data: string[] = [];
          for (const line of block.split('\n')) {
            if (line.startsWith(':')) m.event = ':';
            else if (line.startsWith('event: ')) m.event = line.slice(7);
            else if (line.startsWith('data: ')) data.push(line.slice(6));
            else if (line.startsWith('id: ')) m.id = line.slice(4);
            else if (line.startsWith('retry: ')) m.event = 'retry';
          }
          m.data = data.join('\n');
          messages.push(m);
        }
        for (const w of waiters) w();
      });
      const ended = new Promise<void>((r) => {
        res.on('end', r);
        res.on('close', r);
        res.on('error', () => r());
      });
      resolve({
        status: res.statusCode ?? 0,
        headers: res.headers,
        messages,
        ended,
        close: () => req.destroy(),
        next(event, ms = 5000, from = 0) {
          return new Promise((ok, fail) => {
            const check = () => {
              const found = messages.slice(from).find((x) => x.event === event);
              if (!found) return false;
              cleanup();
              ok(found);
              return true;
            };
            const timer = setTimeout(() => {
              cleanup();
              fail(new Error(`no "${event}" message within ${ms} ms (got: ${messages.map((x) => x.event).join(', ') || 'nothing'})`));
            }, ms);
            const cleanup = () => {
              clearTimeout(timer);
              waiters.delete(w);
            };
            const w = () => void check();
            if (!check()) {
              waiters.add(w);
              void ended.then(() => {
                if (waiters.has(w) && !check()) {
                  cleanup();
                  fail(new Error(`the stream ended before a "${event}" message`));
                }
              });
            }
          });
        },
      });
    });
    req.on('error', reject);
  });
}
