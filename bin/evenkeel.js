#!/usr/bin/env -S node --max-semi-space-size=4
// (The flag keeps V8's young generation small: ~20 MiB less RSS under load, no CPU cost; see
// DATA_PLANE_NODE_FLAGS in src/control/cluster.ts. `node bin/evenkeel.js` runs without it.)
// The installed entry point: runs the bundled CLI (npm ci builds dist/ through `prepare`;
// scripts/bundle.mjs says why a bundle).
import { main } from '../dist/bundle/main.js';

// `evenkeel plan … | head` closes the pipe early: that is the reader's choice, not an error.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (err) => {
    if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw err;
  });
}

main(process.argv).then((code) => {
  process.exitCode = code;
});
