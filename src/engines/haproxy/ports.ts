/**
 * The port each listener binds on HAProxy. HAProxy refuses `bind …:0`, so a listener whose
 * address says port 0 gets a free port chosen here, kept from version to version.
 */
import net from 'node:net';
import type { Config, Listener } from '../../config/index.js';
import { addressKey, parseAddress } from '../../core/index.js';
import type { BoundListener } from '../../proxy/index.js';

/** A listener's identity across versions: protocol and address (as the built-in engine keeps sockets). */
export function listenerId(l: Listener): string {
  return `${l.protocol}|${addressKey(l.address)}`;
}

/** The ports of the version being served. */
export class ListenerPorts {
  private ports = new Map<string, number>();

  /** The ports `config` would bind (new choices for its port-0 listeners, the served ones kept). */
  async choose(config: Config): Promise<Map<string, number>> {
    const out = new Map<string, number>();
    for (const l of config.listeners) {
      const id = listenerId(l);
      const { host, port } = parseAddress(l.address);
      out.set(id, port !== 0 ? port : this.ports.get(id) ?? (await freePort(host)));
    }
    return out;
  }

  /** Records the ports of the version now served. */
  commit(ports: ReadonlyMap<string, number>): void {
    this.ports = new Map(ports);
  }

  /** Where `config`'s listeners listen. */
  bound(config: Config): BoundListener[] {
    return config.listeners.map((l) => ({ name: l.name, protocol: l.protocol, tls: l.tls !== undefined, address: l.address, port: this.ports.get(listenerId(l)) ?? 0 }));
  }
}

/** A free port on `host` (released before it is returned). */
function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, host, () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}
