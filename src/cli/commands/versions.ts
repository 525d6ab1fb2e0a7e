/** `evenkeel history`, `show V` and `diff A B`: the stored config versions of a running instance. */
import type { Command } from 'commander';
import { unifiedDiff } from '../../control/report/index.js';
import { UsageError } from '../../errors.js';
import { AdminClient, adminOptions, type AdminFlags } from '../admin-client.js';
import { table } from '../format.js';
import type { CommandResult } from '../shared.js';

/** A version as the API lists it. */
interface VersionMeta {
  id: number;
  hash: string;
  author: string;
  reason: string;
  createdAt: string;
  status: string;
  knownGood: boolean;
  text?: string;
}

function versionRef(v: string): string {
  const s = v.replace(/^v/, '');
  if (s === 'active' || s === 'last-known-good' || /^\d+$/.test(s)) return s;
  throw new UsageError(`${v}: expected a version number (or active)`);
}

function fetchVersion(client: AdminClient, v: string): Promise<VersionMeta> {
  return client.get<VersionMeta>(`/api/v1/versions/${versionRef(v)}`);
}

export function registerVersions(program: Command, _result: CommandResult): void {
  adminOptions(program.command('history').description('list the stored config versions, newest first').option('--limit <n>', 'at most this many', '50'))
    .action(async (flags: AdminFlags & { limit: string }) => {
      const client = AdminClient.fromFlags(flags);
      const { versions } = await client.get<{ versions: VersionMeta[] }>(`/api/v1/versions?limit=${encodeURIComponent(flags.limit)}`);
      const rows = [['version', 'status', 'created (UTC)', 'author', 'hash', 'reason']];
      for (const v of versions) rows.push([`${v.id}${v.knownGood ? '*' : ''}`, v.status, v.createdAt.replace('T', ' ').replace(/\.\d+Z$/, 'Z'), v.author, v.hash.slice(0, 12), v.reason]);
      process.stdout.write(`${table(rows, '')}${versions.some((v) => v.knownGood) ? '(* last known good)\n' : ''}`);
    });

  adminOptions(program.command('show').description('print a stored version: its metadata, then its config text').argument('<version>', 'version number, or active'))
    .action(async (v: string, flags: AdminFlags) => {
      const x = await fetchVersion(AdminClient.fromFlags(flags), v);
      process.stdout.write(`# version ${x.id} (${x.status}${x.knownGood ? ', last known good' : ''}) by ${x.author} at ${x.createdAt}: ${x.reason}\n# hash ${x.hash}\n${x.text ?? ''}`);
    });

  adminOptions(program.command('diff').description('line diff between two stored versions').argument('<a>', 'the older version').argument('<b>', 'the newer version'))
    .action(async (a: string, b: string, flags: AdminFlags) => {
      const client = AdminClient.fromFlags(flags);
      const [x, y] = await Promise.all([fetchVersion(client, a), fetchVersion(client, b)]);
      const d = unifiedDiff(x.text ?? '', y.text ?? '', `version ${x.id} (${x.status})`, `version ${y.id} (${y.status})`);
      process.stdout.write(d || `versions ${x.id} and ${y.id} have the same text\n`);
    });
}
