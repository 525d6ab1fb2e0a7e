/** Runs the CLI from source (through tsx), for tests that start `evenkeel serve` as a child process. */
import { main } from '../../../src/cli/main.js';

main(process.argv).then((code) => {
  process.exitCode = code;
});
