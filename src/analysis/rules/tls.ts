/**
 * EK121–EK125: a TLS listener's certificates, checked before deploy with node:crypto's X.509
 * parser: the files load, each key matches its certificate, none has expired (or expires within
 * 14 days), and the names cover every host the listener routes. Reads the PEM files the config
 * names, as validate reads a traffic sample.
 */
import { readFileSync } from 'node:fs';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { certificateNames, nameCovers } from '../../core/index.js';
import { finding, type Finding } from '../../config/index.js';
import type { RuleContext } from './context.js';

/** Warn this long before a certificate expires. */
const EXPIRY_WARNING_DAYS = 14;
const DAY_MS = 86_400_000;

/** All TLS rules. */
export function tlsRules({ config }: RuleContext, now = Date.now()): Finding[] {
  const out: Finding[] = [];
  config.listeners.forEach((l, li) => {
    if (!l.tls) return;
    const names: string[] = [];
    l.tls.certificates.forEach((c, ci) => {
      const path = ['listeners', li, 'tls', 'certificates', ci];
      const subject = { listener: l.name };
      let x: X509Certificate;
      try {
        x = new X509Certificate(readFileSync(c.cert));
      } catch (err) {
        return void out.push(finding('EK121', { message: `listener ${l.name}: certificate ${c.cert} cannot be loaded: ${short(err)}`, hint: 'give the path of a PEM certificate file (relative to the config file) that evenkeel can read', path: [...path, 'cert'], subject }));
      }
      try {
        if (!x.checkPrivateKey(createPrivateKey(readFileSync(c.key)))) {
          out.push(finding('EK122', { message: `listener ${l.name}: key ${c.key} is not the private key of certificate ${c.cert} (${x.subject.replace(/\n/g, ', ')})`, hint: 'pair each cert with the key it was issued for (compare `openssl x509 -pubkey` with `openssl pkey -pubout`)', path: [...path, 'key'], subject }));
        }
      } catch (err) {
        out.push(finding('EK121', { message: `listener ${l.name}: key ${c.key} cannot be loaded: ${short(err)}`, hint: 'give the path of the PEM private key (unencrypted) of this certificate', path: [...path, 'key'], subject }));
      }
      const to = Date.parse(x.validTo);
      const from = Date.parse(x.validFrom);
      const days = Math.floor((to - now) / DAY_MS);
      if (to <= now || from > now) {
        out.push(finding('EK123', { message: `listener ${l.name}: certificate ${c.cert} is ${to <= now ? `expired since ${x.validTo}` : `not valid before ${x.validFrom}`}: every client would refuse the handshake`, hint: 'renew the certificate and point cert/key at the new files', path: [...path, 'cert'], subject }));
      } else if (days < EXPIRY_WARNING_DAYS) {
        out.push(finding('EK124', { message: `listener ${l.name}: certificate ${c.cert} expires in ${days} day(s), on ${x.validTo}`, hint: 'renew it now; evenkeel re-reads the files on SIGHUP or `evenkeel reload` with no dropped connection', path: [...path, 'cert'], subject }));
      }
      names.push(...certificateNames(x));
    });
    if (names.length === 0) return;
    (l.routes ?? []).forEach((r, ri) => {
      const host = r.match?.host;
      if (host === undefined || names.some((n) => nameCovers(n, host))) return;
      out.push(finding('EK125', {
        message: `listener ${l.name}, route ${r.name}: no certificate of the listener covers host ${host} (they cover ${names.join(', ')}); clients would get a certificate for another name and refuse it`,
        hint: `add a certificate for ${host} to listeners[${li}].tls.certificates, or move the route to a listener that has one`,
        path: ['listeners', li, 'routes', ri, 'match', 'host'],
        subject: { listener: l.name, route: r.name },
      }));
    });
  });
  return out;
}

function short(err: unknown): string {
  return (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message.split('\n')[0];
}
