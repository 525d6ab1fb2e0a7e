/** Loading the config a command names, in any format, with the engine's own check when installed. */
import { Option, type Command } from 'commander';
import { analyzeLoaded, type ValidateOptions, type ValidationReport } from '../analysis/index.js';
import { EVENKEEL_WORDS, sortFindings, type Finding, type Vocabulary } from '../config/index.js';
import { FORMATS, loadAnyFile, type Format } from '../formats/index.js';
import { haproxyCheck } from './engine-check.js';

/** Flags of every command that reads a config file. */
export interface FormatFlags {
  from?: Format;
  guardrails?: string;
}

/** Adds `--from` and `--guardrails` to a command. */
export function formatOptions(cmd: Command): Command {
  return cmd
    .addOption(new Option('--from <format>', 'read the file as this format instead of detecting it').choices([...FORMATS]))
    .option('--guardrails <file>', 'guardrails and capacities (YAML) for a haproxy.cfg or nginx.conf');
}

/** A judged config, the format it was read as, and that format's words for pools and backends. */
export type CommandReport = ValidationReport & { format: Format; words: Vocabulary };

/**
 * Loads and judges `file`, with the engine's own check when it is a haproxy.cfg and HAProxy is
 * installed (run beside the analysis, its findings merged in). A string is the one line to print
 * when it is no config evenkeel reads (exit 1). Throws FileReadError (exit 2) when the file
 * cannot be read.
 */
export async function judgeForCommand(file: string, flags: FormatFlags, options: ValidateOptions = {}): Promise<CommandReport | string> {
  const loaded = loadAnyFile(file, { from: flags.from, guardrailsFile: flags.guardrails, env: process.env });
  if (loaded.format === 'unknown') return loaded.message;
  const check = loaded.format === 'haproxy' && loaded.text !== '' ? haproxyCheck(file) : undefined;
  const report = analyzeLoaded(loaded, options);
  const engine = check ? await check : [];
  const findings = foreignHints(engine.length ? sortFindings([...report.findings, ...engine]) : report.findings, loaded.format);
  return { ...report, findings, valid: !findings.some((f) => f.severity === 'error'), format: loaded.format, words: loaded.vocabulary ?? EVENKEEL_WORDS };
}

/**
 * The analysis speaks of guardrails as YAML keys; a haproxy.cfg or nginx.conf user sets them in
 * a guardrails file, so the hints of the findings that ask for them say that instead.
 */
function foreignHints(findings: Finding[], format: Format): Finding[] {
  if (format === 'evenkeel') return findings;
  const hints: Partial<Record<string, string>> = {
    EK200: 'pass --guardrails GUARD.yaml with traffic: { peakRps: N } (the expected peak requests/s) and capacity: {BACKEND: N}, or add # evenkeel: capacity=N to server lines',
    EK210: 'add capacity: {BACKEND: N} (or {BACKEND: {SERVER: N}}) to the --guardrails file, or # evenkeel: capacity=N to each server line',
  };
  if (format === 'haproxy') hints.EK303 = 'add check to the server lines (with option httpchk GET /healthz in the backend for an HTTP check), so HAProxy takes a dead server out before requests fail on it';
  else hints.EK303 = 'nginx (open source) has no active health checks: max_fails and fail_timeout on the server lines take a server out after failed requests (default max_fails=1 fail_timeout=10s); keep them, or check the servers from outside';
  hints.EK206 = 'pass a traffic sample (--traffic SAMPLE.jsonl, or traffic: { sample: FILE } in the --guardrails file) to check the real keys';
  return findings.map((f) => {
    if (f.code === 'EK209') return { ...f, hint: concentrationHint(f, format) };
    if (f.code === 'EK203') return { ...f, hint: f.hint.replace(/(\d+ )backends? with weight 0 could serve$/, (_, n: string) => `${n}server${n === '1 ' ? '' : 's'} ${format === 'haproxy' ? 'at weight 0 or disabled' : 'marked down'} could serve`) };
    return hints[f.code] ? { ...f, hint: hints[f.code]! } : f;
  });
}

/** EK209 in the words of the file's own server lines rather than evenkeel's YAML keys. */
function concentrationHint(f: Finding, format: 'haproxy' | 'nginx'): string {
  const toBackup = f.hint.startsWith('every primary');
  if (format === 'haproxy') {
    return toBackup
      ? 'every primary server of this backend is at weight 0 or disabled, so its first backup takes everything: give the primaries weight > 0 again (weight 1 is the default) and remove disabled, or add option allbackups to let all backups share the load'
      : 'give the other servers weight > 0 again (weight 1 is the default; remove disabled), or drain them one at a time; one server is no redundancy and carries the whole backend';
  }
  return toBackup
    ? 'every primary server of this upstream is marked down, so its backup takes everything: remove down from the primaries'
    : 'remove down (or backup) from the other server lines, or take them out one at a time; one server is no redundancy and carries the whole upstream';
}
