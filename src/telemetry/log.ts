/**
 * JSON logs (pino) fed by the diagnostics channels, written asynchronously so the hot path
 * never waits on stderr. Upstream errors are rate-limited: an outage must not become a log
 * flood that costs more CPU than the traffic.
 */
import { pino, type Logger } from 'pino';
import { configChannel, endpointChannel, upstreamErrorChannel, type ConfigEvent, type EndpointEvent, type UpstreamErrorEvent } from './channels.js';

/** At most this many upstream-error lines per second; the rest are counted and summarised. */
const ERROR_LINES_PER_SECOND = 20;

/** Subscribes a pino logger to the data plane's channels; returns a function that unsubscribes. */
export function startLogging(logger: Logger = pino({ base: { pid: process.pid } }, pino.destination({ dest: 2, sync: false }))): () => void {
  let second = 0;
  let lines = 0;
  let suppressed = 0;
  const onEndpoint = (m: unknown) => {
    const e = m as EndpointEvent;
    logger[e.usable ? 'info' : 'warn']({ endpoint: e.key, usable: e.usable, reason: e.reason }, e.usable ? 'endpoint usable' : 'endpoint unusable');
  };
  const onError = (m: unknown) => {
    const e = m as UpstreamErrorEvent;
    const now = Math.floor(Date.now() / 1000);
    if (now !== second) {
      if (suppressed > 0) logger.warn({ suppressed }, 'upstream errors suppressed in the last second');
      second = now;
      lines = 0;
      suppressed = 0;
    }
    if (++lines > ERROR_LINES_PER_SECOND) {
      suppressed++;
      return;
    }
    logger.warn({ pool: e.pool, backend: e.backend, code: e.code, status: e.status, retried: e.retried }, `upstream error: ${e.message}`);
  };
  const onConfig = (m: unknown) => {
    const e = m as ConfigEvent;
    if (e.applied) logger.info({ version: e.version, hash: e.hash, source: e.source }, 'config applied');
    else logger.warn({ source: e.source, errors: e.errors }, 'config refused; the previous config keeps serving');
  };
  endpointChannel.subscribe(onEndpoint);
  upstreamErrorChannel.subscribe(onError);
  configChannel.subscribe(onConfig);
  return () => {
    endpointChannel.unsubscribe(onEndpoint);
    upstreamErrorChannel.unsubscribe(onError);
    configChannel.unsubscribe(onConfig);
    logger.flush?.();
  };
}
