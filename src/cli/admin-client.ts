/**
 * How CLI commands reach a running evenkeel: the admin URL (`--admin URL`, else `admin.address`
 * of `-c FILE`, default evenkeel.yaml) and the bearer token (`--token-file`, else
 * `EVENKEEL_TOKEN`, else the config's `admin.tokenFile`, else `<store.path>/admin.token`, where
 * serve generates it). Uses the global fetch, so commands load no data-plane code.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { loadConfigFile } from '../config/index.js';
import { FileReadError, InstanceError } from '../errors.js';
import { DEFAULT_CONFIG } from './shared.js';

/** The flags every instance command takes. */
export interface AdminFlags {
  config?: string;
  admin?: string;
  tokenFile?: string;
}

/** Adds `-c`, `--admin` and `--token-file` to a command; `configDefault` null leaves `-c` unset. */
export function adminOptions(cmd: Command, configDefault: string | null = DEFAULT_CONFIG): Command {
  return cmd
    .option('-c, --config <file>', 'config whose admin address and token file locate the instance', configDefault ?? undefined)
    .option('--admin <url>', 'admin API URL, e.g. http://127.0.0.1:9901 (overrides the config)')
    .option('--token-file <file>', 'file holding the admin bearer token (else EVENKEEL_TOKEN, admin.tokenFile, <store.path>/admin.token)');
}

/** A JSON answer from the admin API. */
export interface ApiReply<T> {
  status: number;
  body: T;
}

/** A client for one instance's admin API. */
export class AdminClient {
  constructor(readonly url: string, private readonly token: string) {}

  /** Finds the instance and its token from the flags (see the module comment). */
  static fromFlags(flags: AdminFlags): AdminClient {
    const config = flags.config && (!flags.admin || !(flags.tokenFile || process.env.EVENKEEL_TOKEN)) ? loadAdminSettings(flags.config) : undefined;
    const url = (flags.admin ?? (config ? `http://${config.address}` : undefined))?.replace(/\/+$/, '');
    if (!url) throw new InstanceError('no admin address: pass --admin URL or -c FILE (a config with admin.address)');
    return new AdminClient(url, resolveToken(flags, config));
  }

  /** GET `path`; throws InstanceError unless 2xx. */
  async get<T>(path: string): Promise<T> {
    return ok(await this.call<T>('GET', path));
  }

  /** Sends a request and returns status and JSON body; throws InstanceError when unreachable or unauthorized. */
  async call<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<ApiReply<T>> {
    let res: Response;
    try {
      res = await fetch(`${this.url}${path}`, {
        method,
        headers: { authorization: `Bearer ${this.token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (err) {
      const cause = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).message;
      throw new InstanceError(`no running evenkeel answers at ${this.url} (${cause}); start one with evenkeel serve -c FILE, or point --admin at it`, { cause: err });
    }
    const text = await res.text();
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new InstanceError(`${this.url}${path} answered ${res.status} with something that is not JSON: is this an evenkeel admin address?`);
    }
    if (res.status === 401) throw new InstanceError(`${this.url} wants a bearer token: pass --token-file FILE or set EVENKEEL_TOKEN`);
    if (res.status === 403) throw new InstanceError(`${this.url} refused the admin token: it is not this instance's (check --token-file, EVENKEEL_TOKEN, admin.tokenFile)`);
    return { status: res.status, body: parsed as T };
  }
}

/** Throws InstanceError with the API's message unless the reply is 2xx. */
export function ok<T>(r: ApiReply<T>): T {
  if (r.status >= 200 && r.status < 300) return r.body;
  const msg = (r.body as { error?: string } | null)?.error ?? `HTTP ${r.status}`;
  throw new InstanceError(`the instance answered ${r.status}: ${msg}`);
}

interface AdminSettings {
  address: string;
  tokenFile?: string;
  storePath: string;
}

function loadAdminSettings(file: string): AdminSettings {
  if (!existsSync(file)) {
    throw new InstanceError(`cannot find the instance: no ${file} ${file === DEFAULT_CONFIG ? `in ${process.cwd()} ` : ''}to read admin.address from; pass -c FILE or --admin URL`);
  }
  const loaded = loadConfigFile(file);
  if (!loaded.config) {
    const first = loaded.findings.find((f) => f.severity === 'error');
    throw new InstanceError(`cannot read admin.address from ${file}: it does not load${first ? ` (${first.line ?? 1}:${first.column ?? 1}: ${first.message})` : ''}; pass --admin URL`);
  }
  const { admin, store } = loaded.config;
  return { address: admin.address, tokenFile: admin.tokenFile, storePath: store.path };
}

function resolveToken(flags: AdminFlags, config: AdminSettings | undefined): string {
  if (flags.tokenFile) return readToken(flags.tokenFile);
  const env = process.env.EVENKEEL_TOKEN?.trim();
  if (env) return env;
  if (config?.tokenFile) return readToken(config.tokenFile);
  if (config) {
    const generated = join(config.storePath, 'admin.token');
    if (existsSync(generated)) return readToken(generated);
    throw new InstanceError(`no admin token: ${generated} does not exist (serve writes it on start); pass --token-file FILE or set EVENKEEL_TOKEN`);
  }
  throw new InstanceError('no admin token: pass --token-file FILE, set EVENKEEL_TOKEN, or -c FILE');
}

function readToken(file: string): string {
  try {
    return readFileSync(file, 'utf8').trim();
  } catch (err) {
    throw new FileReadError(file, (err as Error).message, { cause: err });
  }
}
