/**
 * Consistent hashing over a weighted Maglev table (maglev.ts). The table is rebuilt only
 * when the view's generation changes (a backend went down or came back), so a pick is one
 * hash and one array read. A request without a key (the header or cookie is missing) is
 * spread by smooth round-robin instead of piling onto whichever backend owns the empty key.
 */
import { MaglevTable, maglevTableSize } from './maglev.js';
import { RoundRobin } from './round-robin.js';
import type { Balancer, Endpoint, EndpointView } from './types.js';

export class ConsistentHash implements Balancer {
  readonly algorithm = 'consistent-hash';
  private table: MaglevTable;
  private builtFor: number;
  private readonly fallback: RoundRobin;
  private readonly names: string[];

  constructor(endpoints: readonly Endpoint[], private readonly view: EndpointView, private readonly tableSize = maglevTableSize(endpoints.length)) {
    this.names = endpoints.map((e) => e.name);
    this.builtFor = view.generation;
    this.table = this.build();
    this.fallback = new RoundRobin(endpoints.length, view);
  }

  private build(): MaglevTable {
    const weights: number[] = [];
    for (let i = 0; i < this.names.length; i++) weights.push(this.view.weight(i));
    return new MaglevTable(this.names, weights, this.tableSize);
  }

  pick(key?: string): number {
    if (key === undefined) return this.fallback.pick();
    if (this.view.generation !== this.builtFor) {
      this.builtFor = this.view.generation;
      this.table = this.build();
    }
    return this.table.lookup(key);
  }

  /** The current table, for the analysis' slot shares. */
  get maglev(): MaglevTable {
    return this.table;
  }
}
