/**
 * Runtime weights: what of a version change HAProxy can take without a reload. A reload starts
 * a new worker (measured here: 0.3–1 s, much more on a loaded machine) while the old worker
 * keeps serving the version being replaced, so a rollback of an all-to-one change would leave
 * the overloaded server taking every request for that long. `set server BACKEND/SERVER weight
 * N` (management.txt §9.3) changes a running server's weight at once; the plane sends the new
 * version's weights first and reloads after, so the harm stops before the reload is done.
 *
 * The weights are read from the two rendered texts, not recomputed, so they are exactly what
 * the reload will load (the writer may scale weights into HAProxy's 0–256).
 */

/** One `server` line of a rendered config. */
interface ServerLine {
  readonly address: string;
  readonly weight: number;
}

/** `backend NAME` → server name → address and weight, from a rendered haproxy.cfg. */
export function serverWeights(text: string): Map<string, Map<string, ServerLine>> {
  const out = new Map<string, Map<string, ServerLine>>();
  let current: Map<string, ServerLine> | undefined;
  for (const line of text.split('\n')) {
    const section = /^(\S+)\s+(\S+)/.exec(line);
    if (section) {
      current = section[1] === 'backend' ? new Map() : undefined;
      if (current) out.set(section[2], current);
      continue;
    }
    const server = /^\s+server\s+(\S+)\s+(\S+)(?:\s.*?)?\sweight\s+(\d+)/.exec(line);
    if (server && current) current.set(server[1], { address: server[2], weight: Number(server[3]) });
  }
  return out;
}

/** A server whose weight the runtime API can move to the next version's. */
export interface WeightChange {
  readonly backend: string;
  readonly server: string;
  readonly weight: number;
}

/**
 * The weight changes from the running text to the next one, for servers both have in the same
 * backend at the same address (a server added, removed or moved needs the reload).
 */
export function weightChanges(running: string, next: string): WeightChange[] {
  const before = serverWeights(running);
  const out: WeightChange[] = [];
  for (const [backend, servers] of serverWeights(next)) {
    const old = before.get(backend);
    if (!old) continue;
    for (const [server, s] of servers) {
      const o = old.get(server);
      if (o && o.address === s.address && o.weight !== s.weight) out.push({ backend, server, weight: s.weight });
    }
  }
  return out;
}

/** The stats-socket command for one change. */
export function weightCommand(c: WeightChange): string {
  return `set server ${c.backend}/${c.server} weight ${c.weight}`;
}
