/**
 * Benchmark backends that are not the bottleneck: Debian's nginx answering `return 200` on N
 * ports (one server block per port, /healthz included). Node backends (bench/backends.ts) let a
 * direct connection do only ~1.6–1.9× nginx-as-a-proxy here, which flatters every proxy
 * measured through them (issue 13); nginx's `return 200` lets a direct connection do ~2.2×.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { start } from './tools.js';

/** The body every backend answers (the same length as bench/backends.ts's). */
export const RETURN_200_BODY = 'hello from a benchmark backend\n';

/** How the backends run. */
export interface NginxReturn200Options {
  /** nginx binary (tools.ts ensureTools().nginx). */
  readonly bin: string;
  readonly ports: readonly number[];
  /** Folder for the generated nginx.conf, pid file and temp paths. */
  readonly dir: string;
  /** File descriptor for nginx's output. */
  readonly log: number;
  /** nginx worker processes [1]. */
  readonly workers?: number;
  /** CPU to pin to when BENCH_PIN=1 (tools.ts start) [1: the load generator's]. */
  readonly cpu?: number;
}

/** Starts one nginx serving `return 200` on every port; stop it with tools.ts stop(). */
export function startNginxReturn200(o: NginxReturn200Options): ChildProcess {
  const dir = join(o.dir, 'nginx-backends');
  mkdirSync(join(dir, 'tmp'), { recursive: true });
  const conf = join(dir, 'nginx.conf');
  writeFileSync(conf, `worker_processes ${o.workers ?? 1};
daemon off;
user root;
pid ${join(dir, 'nginx.pid')};
error_log ${join(dir, 'error.log')} warn;
events { worker_connections 4096; }
http {
  access_log off;
  keepalive_requests 1000000;
  client_body_temp_path ${join(dir, 'tmp')};
  default_type text/plain;
${o.ports.map((p) => `  server {
    listen 127.0.0.1:${p} reuseport;
    location / { return 200 "${RETURN_200_BODY.replace('\n', '\\n')}"; }
  }`).join('\n')}
}
`);
  return start(o.bin, ['-c', conf, '-p', dir], o.log, o.cpu ?? 1);
}

/** The server block's extra lines for TLS (the same certificate as the proxy under test). */
export interface NginxTls {
  readonly port: number;
  readonly cert: string;
  readonly key: string;
}

/**
 * nginx as the proxy the others are compared with: one worker, keep-alive to the backends,
 * X-Forwarded-For like evenkeel and HAProxy add; optionally a TLS (h2 and http/1.1) port.
 */
export function nginxProxyConf(o: { dir: string; name: string; ports: readonly number[]; listen: number; tls?: NginxTls }): string {
  const tls = o.tls ? `
    listen 127.0.0.1:${o.tls.port} ssl http2 reuseport;
    ssl_certificate ${o.tls.cert};
    ssl_certificate_key ${o.tls.key};
    ssl_protocols TLSv1.2 TLSv1.3;` : '';
  return `worker_processes 1;
daemon off;
user root;
pid ${join(o.dir, `${o.name}.pid`)};
error_log ${join(o.dir, `${o.name}.error.log`)} warn;
events { worker_connections 4096; }
http {
  access_log off;
  keepalive_requests 1000000;
  client_body_temp_path ${join(o.dir, 'nginx-tmp')};
  proxy_temp_path ${join(o.dir, 'nginx-tmp')};
  upstream app {
${o.ports.map((p) => `    server 127.0.0.1:${p};`).join('\n')}
    keepalive 256;
  }
  server {
    listen 127.0.0.1:${o.listen} reuseport;${tls}
    location / {
      proxy_pass http://app;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
    }
  }
}
`;
}
