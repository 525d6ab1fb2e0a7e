/** Shared by the engine tests: whether haproxy is installed, and sequential requests through a plane. */
import { existsSync } from 'node:fs';
import { request, type Agent } from 'undici';

/** A `skip` reason when Debian's haproxy is not installed (CI installs it: .ci/run). */
export const NO_HAPROXY = !existsSync('/usr/sbin/haproxy') && 'haproxy is not installed';

/** Sends `n` GET / one after another on `agent`; resolves with how many did not answer 200. */
export async function sendSequential(port: number, agent: Agent, n: number): Promise<number> {
  let failed = 0;
  for (let i = 0; i < n; i++) {
    const r = await request(`http://127.0.0.1:${port}/`, { dispatcher: agent }).catch(() => undefined);
    if (!r || r.statusCode !== 200) failed++;
    await r?.body.dump();
  }
  return failed;
}
