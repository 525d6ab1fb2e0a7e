/** The HAProxy engine: a Plane that supervises HAProxy in master-worker mode. */
export { HaproxyPlane, type HaproxyPlaneOptions, type EngineInfo } from './plane.js';
export { checkBinary, MIN_VERSION, DEFAULT_BINARY, type HaproxyBinary } from './binary.js';
