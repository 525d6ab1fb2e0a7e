// evenkeel's layering (/work/shared/DESIGN.md "Architecture", docs/architecture.md "Import
// direction") as rules, run by `npm run typecheck` (scripts/check-layers.mjs) and so by CI.
// Errors: an import against the direction, runtime code in a pure layer, the data plane reaching
// up into control/cli, any circle, and an import into another folder that skips its index.ts.

/** What each folder of src/ may import from the other folders (its own folder is always allowed). */
const ALLOWED = {
  errors: [],
  core: ['errors'],
  // balancer takes only types from config (AlgorithmName is the schema's list).
  balancer: ['config', 'core', 'errors'],
  config: ['core', 'errors'],
  routing: ['balancer', 'config', 'core', 'errors'],
  // analysis reads foreign configs for suites (`config: ./haproxy.cfg`); both are pure.
  analysis: ['routing', 'balancer', 'formats', 'config', 'core', 'errors'],
  formats: ['config', 'core', 'errors'],
  upstream: ['balancer', 'config', 'core', 'errors'],
  health: ['upstream', 'balancer', 'telemetry', 'config', 'core', 'errors'],
  telemetry: ['config', 'core', 'errors'],
  proxy: ['routing', 'balancer', 'upstream', 'health', 'telemetry', 'config', 'core', 'errors'],
  demo: ['core', 'errors'],
  // engines implement control/plane.ts's Plane contract and nothing else of control/.
  engines: ['proxy', 'routing', 'balancer', 'upstream', 'health', 'telemetry', 'formats', 'config', 'core', 'errors', 'control/plane.ts'],
  control: ['engines', 'proxy', 'routing', 'balancer', 'upstream', 'health', 'telemetry', 'analysis', 'formats', 'config', 'core', 'errors'],
  cli: ['control', 'engines', 'demo', 'analysis', 'formats', 'config', 'core', 'errors'],
};

/** The folders that must load with no network, no timers and no sockets (validate, plan, test). */
const PURE = ['errors', 'core', 'config', 'formats', 'analysis', 'routing', 'balancer'];
/** Node built-ins and packages that are runtime code: sockets, processes, servers, metrics, logs, SQLite. */
const RUNTIME = ['net', 'http', 'https', 'http2', 'tls', 'dgram', 'dns', 'cluster', 'child_process', 'worker_threads', 'timers', 'diagnostics_channel', 'undici', 'prom-client', 'pino', 'better-sqlite3', 'commander', 'autocannon'];
/** The data plane: never imports control/ or cli/ (checked by ALLOWED too; named here for the message). */
const DATA_PLANE = ['proxy', 'upstream', 'health', 'balancer', 'routing', 'telemetry'];

const esc = (s) => s.replace(/[.]/g, '\\.');
const target = (t) => (t.endsWith('.ts') ? `^src/${esc(t)}$` : `^src/${t}(/|\\.ts$)`);
const folders = Object.keys(ALLOWED);

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'A circle of imports: two modules that need each other are one idea, or one of them holds what both share (a leaf module).',
      from: {},
      to: { circular: true },
    },
    ...folders.map((f) => ({
      name: `layer-${f}`,
      severity: 'error',
      comment: `src/${f} may import only ${ALLOWED[f].join(', ') || 'nothing'} (imports point one way; DESIGN.md "Architecture").`,
      from: { path: f === 'errors' ? '^src/errors\\.ts$' : `^src/${f}/` },
      to: { path: '^src/', pathNot: [target(f), ...ALLOWED[f].map(target)] },
    })),
    {
      name: 'data-plane-not-control',
      severity: 'error',
      comment: 'The data plane never imports control/ or cli/: the primary pushes config and health down, telemetry flows up on diagnostics_channel.',
      from: { path: `^src/(${DATA_PLANE.join('|')})/` },
      to: { path: '^src/(control|cli|engines)/' },
    },
    {
      name: 'pure-layers-no-runtime',
      severity: 'error',
      comment: `${PURE.join(', ')} never import runtime code (no sockets, timers, undici, metrics, logs), so validate, plan and test load fast and need no network.`,
      from: { path: `^src/(errors\\.ts|(${PURE.filter((p) => p !== 'errors').join('|')})/)` },
      to: { dependencyTypes: ['core', 'npm', 'npm-dev', 'npm-optional', 'npm-peer', 'npm-no-pkg', 'npm-unknown'], path: `(^|^node:|node_modules/)(${RUNTIME.join('|')})($|/)` },
    },
    {
      name: 'proxy-telemetry-only-channels',
      severity: 'error',
      comment: 'The proxy publishes on diagnostics_channel and imports neither metrics nor logs (telemetry/index.ts would load prom-client and pino).',
      from: { path: '^src/(proxy|upstream|health|routing|balancer)/' },
      to: { path: '^src/telemetry/', pathNot: '^src/telemetry/(channels|state)\\.ts$' },
    },
    {
      name: 'balancer-config-types-only',
      severity: 'error',
      comment: 'balancer/ takes types from config/ (the schema is the one list of algorithms) and no code: pick() stays free of the loader.',
      from: { path: '^src/balancer/' },
      to: { path: '^src/config/', dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'no-unresolvable',
      severity: 'error',
      comment: 'An import that resolves to nothing.',
      from: {},
      to: { couldNotResolve: true },
    },
    {
      name: 'through-index',
      severity: 'error',
      comment: "Another folder is entered through its index.ts, its public surface (STYLE.md). Exceptions: the proxy's telemetry channels (see proxy-telemetry-only-channels) and control/plane.ts for engines (control/index.ts would be a circle). cli/ commands that must not load control/ eagerly import its types only, or import it dynamically.",
      from: { path: '^src/([^/]+)/' },
      to: {
        path: '^src/[^/]+/',
        pathNot: ['^src/$1/', '^src/.+/index\\.ts$', '^src/telemetry/(channels|state)\\.ts$', '^src/control/plane\\.ts$'],
      },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default'], extensions: ['.ts', '.js', '.mjs', '.cjs', '.json'] },
  },
};
