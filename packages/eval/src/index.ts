/**
 * @mil/eval: evaluations of teacher and hybrid model folders (perplexity, long-context curve, multiple choice,
 * passkey retrieval, generation speed), their plots and a self-contained HTML report.
 */
export { perplexity, type PerplexityOptions, type PerplexityResult } from './perplexity';
export { lossCurveSvg, type Series } from './loss-curve-svg';
export { heatmapSvg } from './heatmap-svg';
export { reportHtml, writeReport, type ReportSection } from './report-html';
export { EvalError, type EvalErrorCode } from './eval-error';
export { loadEvalModel, teacherEvalModel, hybridEvalModel, type EvalModel, type EvalSession, type SessionMark } from './eval-model';
export { tokenLogProb, argmax } from './log-probs';
export { sessionScorer, batchScorer, type Scorer, type ScoreRequest, type ScoreResult, type BatchScorerOptions } from './scorer';
export { loadTexts, tokenStreams, BUILTIN_TEXTS } from './texts';
export { slidingWindowRequests, slidingWindowPerplexity, type SlidingWindowOptions, type PplResult } from './tasks/ppl';
export { longContextCurve, type LongContextOptions, type LongContextResult } from './tasks/long';
export { multipleChoice, parseMcJsonl, encodePair, withFewShot, mcPrediction, type McItem, type McOptions, type McResult } from './tasks/mc';
export { needlePrompt, needleRetrieval, NEEDLE_DEPTHS, type NeedleOptions, type NeedlePrompt, type NeedleResult } from './tasks/needle';
export { generationSpeed, type SpeedOptions, type SpeedPoint } from './tasks/speed';
export { parseHellaswag, parseArc, parsePiqa, parseWinogrande, parseLambada, parseMmluCsv, parseCsv, parseTaskFile, detectFormat, TASK_FORMATS, type TaskFormat } from './formats';
export { evaluateModel, builtinMcFiles, EVAL_TASKS, type EvalTask, type EvaluateOptions, type ModelEvalResult, type EvalProgress } from './evaluate';
export { compareTable, evalReportSections } from './eval-report';
