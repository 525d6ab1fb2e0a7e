/** Loading the config a command names, in any format, with the engine's own check when installed. */
import { Option, type Command } from 'commander';
import type { LoadResult } from '../config/load.js';
import type { Finding } from '../config/findings.js';
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

/**
 * Loads `file`; a string is the one line to print when it is no config evenkeel reads (exit 1).
 * Throws FileReadError (exit 2) when the file cannot be read.
 */
export function loadForCommand(file: string, flags: FormatFlags): (LoadResult & { format: Format }) | string {
  const loaded = loadAnyFile(file, { from: flags.from, guardrailsFile: flags.guardrails, env: process.env });
  if (loaded.format === 'unknown') return loaded.message;
  if (loaded.format === 'haproxy' && loaded.text !== '') return { ...loaded, findings: [...loaded.findings, ...haproxyCheck(file)] };
  return loaded;
}

/**
 * The analysis speaks of guardrails as YAML keys; a haproxy.cfg or nginx.conf user sets them in
 * a guardrails file, so the hints of the findings that ask for them say that instead.
 */
export function foreignHints(findings: Finding[], format: Format): Finding[] {
  if (format === 'evenkeel') return findings;
  const hints: Partial<Record<string, string>> = {
    EK200: 'pass --guardrails GUARD.yaml with traffic: { peakRps: N } (the expected peak requests/s) and capacity: {BACKEND: N}, or add # evenkeel: capacity=N to server lines',
    EK210: 'add capacity: {BACKEND: N} (or {BACKEND: {SERVER: N}}) to the --guardrails file, or # evenkeel: capacity=N to each server line',
  };
  return findings.map((f) => (hints[f.code] ? { ...f, hint: hints[f.code]! } : f));
}
