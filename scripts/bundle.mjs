// The CLI as one bundle (dist/bundle/), built from tsc's output by `npm run build`: the entry
// bin/evenkeel.js runs. Loading ~180 compiled modules plus zod's, yaml's and commander's files
// one by one was a quarter of a short command's time: `evenkeel validate` of a small
// haproxy.cfg took 0.40 s unbundled and 0.30 s bundled, `node -e 0` 0.10 s (issue 12's
// speed goal). Commands stay separate chunks, loaded when run (src/cli/main.ts COMMANDS).
//
// better-sqlite3 stays outside: it loads its native addon by path. The chunks sit two folders
// below the package root, as the modules of dist/*/ do, so `new URL('../../…', import.meta.url)`
// (package.json, src/ui/) resolves the same in both.
import { build } from 'esbuild';
import { rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const outdir = join(root, 'dist', 'bundle');
rmSync(outdir, { recursive: true, force: true });
await build({
  entryPoints: [join(root, 'dist', 'cli', 'main.js')],
  outdir,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  external: ['better-sqlite3'],
  // CommonJS dependencies bundled into ESM call require() for Node's own modules.
  banner: { js: "import { createRequire as __evenkeelRequire } from 'node:module'; const require = __evenkeelRequire(import.meta.url);" },
  logLevel: 'warning',
});
