/** Test certificates made with Debian's openssl: self-signed, with the names and validity asked for. */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

/** A certificate and key pair on disk. */
export interface CertFiles {
  cert: string;
  key: string;
}

/**
 * Makes a self-signed P-256 certificate for `names` (DNS subjectAltNames; the first is the CN)
 * valid for `days` from now, in `dir` as `<base>.crt` / `<base>.key`.
 */
export function makeCert(dir: string, base: string, names: string[], days = 30): CertFiles {
  const cert = join(dir, `${base}.crt`);
  const key = join(dir, `${base}.key`);
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-subj', `/CN=${names[0]}`,
    '-addext', `subjectAltName=${names.map((n) => `DNS:${n}`).join(',')}`, '-days', String(days), '-keyout', key, '-out', cert], { stdio: 'ignore' });
  return { cert, key };
}
