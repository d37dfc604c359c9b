/**
 * @mil/graph/testing: helpers for the tests of packages that build graphs (not part of the main entry, so
 * production code cannot depend on them). Several packages' tests check their gradients with `gradCheck`.
 *
 * @example
 * import { gradCheck } from '@mil/graph/testing';
 */
export { gradCheck, type GradCheckInput, type GradCheckResult } from './grad-check';
