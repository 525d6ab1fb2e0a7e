/**
 * `nginx -t` output → findings at the nginx.conf file:line it names, for a caller that ran the
 * installed binary (cli/, which may spawn; formats/ stays pure). Invocation that needs nothing
 * under /var: `nginx -t -q -p TMP -c FILE -g 'error_log stderr;'` (add `pid TMP/nginx.pid;` to
 * -g when FILE sets no pid). Both message shapes are read:
 *   nginx: [emerg] invalid parameter "wieght=2" in /etc/nginx/nginx.conf:4
 *   2026/12/01 22:05:29 [emerg] 19189#19189: invalid parameter "wieght=2" in /etc/nginx/nginx.conf:4
 * Errors about files nginx could not open on this machine (certificates, logs, the pid file) are
 * the machine's, not the config's: they are returned apart, for the caller to print or ignore.
 */
import { finding, type Finding } from '../../config/index.js';

const LINE = /^(?:nginx: |\d{4}\/\d\d\/\d\d \d\d:\d\d:\d\d )\[(emerg|alert|crit|error)\] (?:\d+#\d+: )?(.*?)(?: in (.+):(\d+))?$/;
const ENVIRONMENT = /open\(\) ".*" failed|cannot load certificate|BIO_new_file|No such file or directory|Permission denied|could not build|host not found in upstream/;

/** Findings (EK533) for what `nginx -t` refused, and the environment errors left out. */
export function nginxTestFindings(output: string, mainFile: string): { findings: Finding[]; environment: string[] } {
  const findings: Finding[] = [];
  const environment: string[] = [];
  for (const raw of output.split('\n')) {
    const m = LINE.exec(raw.trim());
    if (!m) continue;
    const [, , message, file, line] = m;
    if (ENVIRONMENT.test(message)) {
      environment.push(raw.trim());
      continue;
    }
    findings.push({
      ...finding('EK533', { message: `nginx -t: ${message}`, hint: 'nginx itself refuses the config here; fix it before evenkeel\'s prediction can matter', path: [] }),
      line: line ? Number(line) : 1,
      column: 1,
      ...(file && file !== mainFile ? { file } : {}),
    });
  }
  return { findings, environment };
}
