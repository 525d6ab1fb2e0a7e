/** A data-plane worker for tests that drive a ClusterPlane in the test process (cluster.setupPrimary({ exec }) points here). */
import { runWorker } from '../../../src/control/worker.js';

runWorker(false);
