/**
 * @mil/eval: held-out perplexity, reports and plots.
 */
export { perplexity, type PerplexityOptions, type PerplexityResult } from './perplexity';
export { lossCurveSvg, type Series } from './loss-curve-svg';
