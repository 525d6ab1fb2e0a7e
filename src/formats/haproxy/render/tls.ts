/**
 * A listener's `tls:` as the options of its HAProxy `bind` (configuration.txt 5.1): `ssl`, one
 * `crt` per certificate (HAProxy picks by SNI among them, the first is the default, as
 * evenkeel), ALPN `h2,http/1.1` and `ssl-min-ver`.
 *
 * HAProxy reads a certificate's key from the same PEM file or from `<crt>.key` beside it
 * (`ssl-load-extra-files`, default `all`); it has no option naming a key elsewhere. So the
 * export names the certificate file, and when evenkeel's key is neither the same file nor
 * `<cert>.key` it says, in a note, which file HAProxy expects. An engine that writes combined
 * PEM files itself passes `pemFor`.
 */
import type { Listener } from '../../../config/index.js';
import type { Notes } from './notes.js';
import { arg } from './text.js';

/** One certificate and its key, as the config names them (absolute paths after loading). */
export interface CertificatePair {
  readonly cert: string;
  readonly key: string;
}

/** The PEM file HAProxy should load for a pair (cert and key in one file, or `<file>.key` beside it). */
export type PemFor = (pair: CertificatePair) => string;

/** ` ssl crt … alpn h2,http/1.1 ssl-min-ver …` for a TLS listener, or '' for a plain one. */
export function tlsBindOptions(l: Listener, section: string, notes: Notes, pemFor?: PemFor): { options: string; comments: string[] } {
  if (!l.tls) return { options: '', comments: [] };
  const comments: string[] = [];
  const crts = l.tls.certificates.map((c) => {
    if (pemFor) return pemFor(c);
    if (c.key !== c.cert && c.key !== `${c.cert}.key`) {
      comments.push(notes.add(section, `HAProxy reads the key of ${c.cert} from that file or from ${c.cert}.key beside it, not from ${c.key}: link it there (ln -s ${c.key} ${c.cert}.key, which follows renewals) or append the key to the certificate file`));
    }
    return c.cert;
  });
  return { options: ` ssl ${crts.map((c) => `crt ${arg(c)}`).join(' ')} alpn h2,http/1.1 ssl-min-ver ${l.tls.minVersion}`, comments };
}
