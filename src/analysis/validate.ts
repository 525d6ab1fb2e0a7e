/**
 * `validate` and `plan` as functions: load, check the shape, build the traffic model, run
 * every rule set, and place each finding at its file:line:column. Pure apart from reading
 * the config and sample files.
 */
import { loadConfigFile, parseConfigText, type LoadResult } from '../config/index.js';
import { EVENKEEL_WORDS, sortFindings, type Finding } from '../config/index.js';
import type { Config } from '../config/index.js';
import { loadSampleCached, type Sample, type SampleRequest } from './sample.js';
import { buildTrafficModel, toPrediction, type Prediction, type TrafficModel } from './traffic.js';
import type { Analysed, RuleContext } from './rules/context.js';
import { structureRules } from './rules/structure.js';
import { capacityRules } from './rules/capacity.js';
import { healthRules } from './rules/health.js';
import { changeRules } from './rules/change.js';
import { tlsRules } from './rules/tls.js';

/** What validate reports; `valid` is false when any finding is an error. */
export interface ValidationReport {
  file: string;
  valid: boolean;
  findings: Finding[];
  config?: Config;
  prediction?: Prediction;
  model?: TrafficModel;
}

/** Options shared by validate, plan and apply. */
export interface ValidateOptions {
  /** The version this one replaces: enables the EK4xx change rules. */
  previous?: Analysed;
  /** A sample file to use instead of the config's guardrails.traffic.sample. */
  samplePath?: string;
  /** Requests already in memory (the live sample of a running instance). */
  sampleRequests?: readonly SampleRequest[];
}

const RULES = [structureRules, tlsRules, capacityRules, healthRules, changeRules];

/** Validates a config file. Throws FileReadError only when the config file cannot be read. */
export function validateFile(file: string, options: ValidateOptions = {}): ValidationReport {
  return analyzeLoaded(loadConfigFile(file), options);
}

/** Validates config text (the admin API receives text, not files). */
export function validateText(text: string, file = '<input>', options: ValidateOptions = {}): ValidationReport {
  return analyzeLoaded(parseConfigText(text, file), options);
}

/** Runs the analysis on an already-loaded config. */
export function analyzeLoaded(load: LoadResult, options: ValidateOptions = {}): ValidationReport {
  const findings = [...load.findings];
  // A schema error does not hide the rest: the config without the refused keys is judged too,
  // and its findings reported, but it is no config (never served, no prediction).
  if (!load.config) return finish(load.file, load.partial ? [...findings, ...judge(load, load.partial, options)] : findings);
  const config = load.config;
  const model = buildTrafficModel(config, options.sampleRequests ?? resolveSample(config, options)?.requests);
  findings.push(...judge(load, config, options, model));
  return { ...finish(load.file, findings), config, model, prediction: toPrediction(model) };
}

/** The sample's findings and every rule set's, placed at their positions. */
function judge(load: LoadResult, config: Config, options: ValidateOptions, built?: TrafficModel): Finding[] {
  const sample = resolveSample(config, options);
  const findings: Finding[] = [...(sample?.findings ?? [])];
  const model = built ?? buildTrafficModel(config, options.sampleRequests ?? sample?.requests);
  const ctx: RuleContext = { config, model, previous: options.previous, words: load.vocabulary ?? EVENKEEL_WORDS };
  for (const rules of RULES) {
    for (const f of rules(ctx)) {
      if (f.line === undefined && !f.file) Object.assign(f, load.locator.locate(f.path));
      findings.push(f);
    }
  }
  // A sample finding points at the sample file when it has a line there, else at the config key.
  for (const f of findings) if (f.code === 'EK119' && f.line === undefined) Object.assign(f, load.locator.locate(f.path));
  return findings;
}

/**
 * The reader's own words where they say more exactly what a rule says: under HAProxy's
 * `balance first` (EK503, EK504) the servers after the first are modelled as standbys, but they
 * also take the overflow past its maxconn, so the rule's active/standby warning (EK550: "takes
 * over only when it is down") would contradict the reader.
 */
function superseded(findings: Finding[]): Finding[] {
  const fillInOrder = new Set(findings.filter((f) => f.code === 'EK503' || f.code === 'EK504').map((f) => f.subject?.pool));
  return fillInOrder.size ? findings.filter((f) => !(f.code === 'EK550' && fillInOrder.has(f.subject?.pool))) : findings;
}

function finish(file: string, findings: Finding[]): ValidationReport {
  const sorted = sortFindings(superseded(findings));
  return { file, valid: !sorted.some((f) => f.severity === 'error'), findings: sorted };
}

function resolveSample(config: Config, options: ValidateOptions): Sample | undefined {
  if (options.sampleRequests) return undefined;
  const path = options.samplePath ?? config.guardrails.traffic?.sample;
  if (!path) return undefined;
  const s = loadSampleCached(path);
  // Findings get positions per config: hand out copies.
  return { ...s, findings: s.findings.map((f) => ({ ...f })) };
}
