/** The part of autocannon's API the data-plane tests use (the package ships no types). */
declare module 'autocannon' {
  interface Options {
    url: string;
    connections?: number;
    duration?: number;
    overallRate?: number;
  }
  interface Result {
    non2xx: number;
    errors: number;
    timeouts: number;
    requests: { total: number; average: number };
  }
  /** The run: awaitable for its result; `stop()` ends it early (the result covers what ran). */
  function autocannon(options: Options): Promise<Result> & { stop(): void };
  export default autocannon;
}
