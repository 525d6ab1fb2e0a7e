/** What every rule receives: the config, its traffic model, and the previous version if any. */
import type { Config } from '../../config/index.js';
import type { Finding, Vocabulary } from '../../config/index.js';
import type { TrafficModel } from '../traffic.js';

/** A version of a config and its predicted traffic. */
export interface Analysed {
  config: Config;
  model: TrafficModel;
}

/** Input to a rule set. */
export interface RuleContext extends Analysed {
  previous?: Analysed;
  /** The words of the file the config came from (pool or backend or upstream …). */
  words: Vocabulary;
}

/** A rule set: returns its findings with paths; positions are filled in by the caller. */
export type Rules = (ctx: RuleContext) => Finding[];
