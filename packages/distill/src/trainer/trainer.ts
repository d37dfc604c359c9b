// A generic, resumable training loop: gradients come from a callback, so the loop does not care whether they
// were computed by ORT graphs or by hand. Deterministic: a run interrupted and resumed from a checkpoint takes
// exactly the same steps as one that was not.
import {
  listCheckpoints,
  openCheckpoint,
  pruneCheckpoints,
  removeStaleTemporaries,
  writeCheckpoint,
  type OpenedCheckpoint,
  type StoredTensor,
} from './checkpoint-dir';
import { DistillError } from '../errors';
import { mixSeeds } from '@mil/core';
import type { CheckpointOptions, ProgressEvent, TrainerOptions, TrainResult } from './trainer-options';
import { TRAINER_STATE_FORMAT, TRAINER_STATE_VERSION, type EvalRecord, type StepRecord, type TrainerStateJson } from './trainer-state';
import { AdamW, SGD, clipGradNorm, compileParamFilter, globalGradNorm, lrSchedule, type GradSource, type Optimizer, type ScheduleSpec, validateSchedule } from '../optim/index';

// Salts that keep the seed streams of data order and of per-micro-batch randomness apart.
const DATA_STREAM = 1;
const MICRO_STREAM = 2;

type BatchIterator<B> = Iterator<B> | AsyncIterator<B>;

/**
 * The training loop. Construct with options (validated at once), then `await run()` (once).
 *
 * @example
 * const trainer = new Trainer({
 *   params, shapes, data: arrayDataSource(examples, { batchSize: 2 }),
 *   lossAndGrads: async (p, batch) => runTrainStep(p, batch),
 *   totalSteps: 1000, gradAccumSteps: 4, maxGradNorm: 0.1,
 *   optimizer: { lr: 8e-5, betas: [0.9, 0.98], weightDecay: 0 },
 *   schedule: { kind: 'cosine', warmupSteps: 50 },
 *   trainable: [/\.mamba\./],
 *   checkpoint: { dir: 'runs/stage1', every: 100 }, resume: 'latest',
 *   onProgress: (e) => bar.update(e.step, e),
 * });
 * const result = await trainer.run();
 */
export class Trainer<B> {
  readonly #o: TrainerOptions<B>;
  readonly #accumSteps: number;
  readonly #seed: number;
  readonly #shapes: Map<string, readonly number[]>;
  readonly #trainable: string[];
  readonly #frozen: string[];
  readonly #optimizer: Optimizer;
  readonly #schedule: ScheduleSpec;
  readonly #lrAt: (step: number) => number;
  readonly #accum: Map<string, Float32Array>;
  readonly #checkpoint: Required<CheckpointOptions> | null;

  #step = 0;
  #epoch = 0;
  #position = 0;
  #microBatches = 0;
  #tokensSeen = 0;
  #history: StepRecord[] = [];
  #evals: EvalRecord[] = [];
  #iter: BatchIterator<B> | null = null;
  #lastCheckpoint: string | null = null;
  #resumedFrom: string | null = null;
  #started = false;

  constructor(options: TrainerOptions<B>) {
    const o = options;
    this.#o = o;
    const bad = (msg: string): never => {
      throw new DistillError('BAD_OPTION', `Trainer: ${msg}`);
    };
    if (!(o.params instanceof Map) || o.params.size === 0) bad('params must be a non-empty Map<string, Float32Array>');
    if (!Number.isInteger(o.totalSteps) || o.totalSteps < 1) bad(`totalSteps must be an integer >= 1, got ${o.totalSteps}`);
    this.#accumSteps = o.gradAccumSteps ?? 1;
    if (!Number.isInteger(this.#accumSteps) || this.#accumSteps < 1) bad(`gradAccumSteps must be an integer >= 1, got ${o.gradAccumSteps}`);
    this.#seed = o.seed ?? 0;
    if (!Number.isInteger(this.#seed) || this.#seed < 0 || this.#seed > 0xffffffff) bad(`seed must be a 32-bit unsigned integer, got ${o.seed}`);
    if (o.maxGradNorm !== undefined && !(o.maxGradNorm > 0)) bad(`maxGradNorm must be > 0, got ${o.maxGradNorm}`);
    if (o.evalEvery !== undefined) {
      if (!Number.isInteger(o.evalEvery) || o.evalEvery < 1) bad(`evalEvery must be an integer >= 1, got ${o.evalEvery}`);
      if (!o.evaluate) bad('evalEvery is set but no evaluate callback was given');
    }
    if (typeof o.lossAndGrads !== 'function') bad('lossAndGrads must be a function');
    if (!o.data || typeof o.data.batches !== 'function') bad('data must have a batches(epochSeed, position) method');

    // Shapes: given ones must match the data; the rest are 1-D.
    const given: ReadonlyMap<string, readonly number[]> =
      o.shapes === undefined
        ? new Map()
        : o.shapes instanceof Map
          ? (o.shapes as ReadonlyMap<string, readonly number[]>)
          : new Map(Object.entries(o.shapes as Readonly<Record<string, readonly number[]>>));
    this.#shapes = new Map();
    for (const [name, data] of o.params) {
      if (!(data instanceof Float32Array)) bad(`parameter '${name}' must be a Float32Array`);
      const shape: readonly number[] = given.get(name) ?? [data.length];
      const n = shape.reduce((a: number, b: number) => a * b, 1);
      if (n !== data.length) bad(`shape [${shape.join(', ')}] of '${name}' has ${n} elements, the array has ${data.length}`);
      this.#shapes.set(name, [...shape]);
    }
    for (const name of given.keys()) if (!o.params.has(name)) bad(`shapes names '${name}', which is not a parameter`);

    // Which parameters train.
    const isTrainable = o.trainable === undefined ? () => true : compileParamFilter(o.trainable);
    const isFrozen = o.freeze === undefined ? () => false : compileParamFilter(o.freeze);
    this.#trainable = [];
    this.#frozen = [];
    for (const name of o.params.keys()) {
      const shape = this.#shapes.get(name);
      (isTrainable(name, shape) && !isFrozen(name, shape) ? this.#trainable : this.#frozen).push(name);
    }
    if (this.#trainable.length === 0) bad('no parameter is trainable (check `trainable` / `freeze`)');

    // Schedule: totalSteps is the trainer's; warmupRatio rounds up as HF does.
    const s = o.schedule ?? { kind: 'cosine' };
    const warmupSteps = s.warmupSteps ?? (s.warmupRatio !== undefined ? Math.ceil(o.totalSteps * s.warmupRatio) : 0);
    this.#schedule =
      s.kind === 'constant'
        ? { kind: 'constant', warmupSteps }
        : s.kind === 'linear'
          ? { kind: 'linear', warmupSteps, totalSteps: o.totalSteps }
          : { kind: 'cosine', warmupSteps, totalSteps: o.totalSteps, minLrRatio: s.minLrRatio ?? 0, numCycles: s.numCycles ?? 0.5 };
    const named = this.#trainable.map((name) => ({ name, data: o.params.get(name)!, shape: this.#shapes.get(name) }));
    try {
      validateSchedule(this.#schedule);
      this.#lrAt = lrSchedule(o.optimizer.lr, this.#schedule);
      const { kind, ...rest } = o.optimizer;
      this.#optimizer = kind === 'sgd' ? new SGD(named, rest) : new AdamW(named, rest as Omit<typeof rest, 'momentum'>);
    } catch (e) {
      throw new DistillError('BAD_OPTION', `Trainer: ${(e as Error).message}`, { cause: e });
    }
    this.#accum = new Map(this.#trainable.map((name) => [name, new Float32Array(o.params.get(name)!.length)]));

    const ck = o.checkpoint;
    if (ck) {
      if (typeof ck.dir !== 'string' || ck.dir === '') bad('checkpoint.dir must be a directory path');
      if (ck.every !== undefined && (!Number.isInteger(ck.every) || ck.every < 1)) bad(`checkpoint.every must be an integer >= 1, got ${ck.every}`);
      if (ck.keepLast !== undefined && (!Number.isInteger(ck.keepLast) || ck.keepLast < 1)) bad(`checkpoint.keepLast must be an integer >= 1, got ${ck.keepLast}`);
      if (ck.everySeconds !== undefined && !(ck.everySeconds >= 0 && Number.isFinite(ck.everySeconds))) bad(`checkpoint.everySeconds must be a number >= 0, got ${ck.everySeconds}`);
      this.#checkpoint = { dir: ck.dir, every: ck.every ?? 0, everySeconds: ck.everySeconds ?? 0, keepLast: ck.keepLast ?? 3, saveAtEnd: ck.saveAtEnd ?? true, fsync: ck.fsync ?? true };
    } else {
      this.#checkpoint = null;
    }
    if (o.resume === 'latest' && !ck) bad("resume: 'latest' needs checkpoint.dir");
  }

  /** Optimizer steps completed so far. */
  get step(): number {
    return this.#step;
  }

  /** Names of the parameters being trained, and of the frozen ones. */
  get trainableNames(): readonly string[] {
    return this.#trainable;
  }
  get frozenNames(): readonly string[] {
    return this.#frozen;
  }

  /** Learning rate the step after `completedSteps` uses. */
  lrAt(completedSteps: number): number {
    return this.#lrAt(completedSteps);
  }

  /** Resume if asked, then train up to `totalSteps` (or until `signal` aborts). Callable once. */
  async run(): Promise<TrainResult> {
    if (this.#started) throw new DistillError('BAD_OPTION', 'Trainer.run() can be called only once per Trainer');
    this.#started = true;
    const o = this.#o;
    const ck = this.#checkpoint;
    await this.#resume();
    if (ck) await removeStaleTemporaries(ck.dir);

    let lastSaved = this.#resumedFrom !== null ? this.#step : -1;
    let lastSavedAt = performance.now();
    let stopped = false;
    const t0 = performance.now();
    let computeMs = 0;
    let sessionSteps = 0;
    let sessionTokens = 0;
    try {
      while (this.#step < o.totalSteps) {
        if (o.signal?.aborted) {
          stopped = true;
          break;
        }
        const tStep = performance.now();
        const { loss, tokens, epoch } = await this.#accumulateStep();
        const gradNorm = o.maxGradNorm !== undefined ? clipGradNorm(this.#accum, o.maxGradNorm) : globalGradNorm(this.#accum);
        if (!Number.isFinite(gradNorm)) {
          throw new DistillError('NON_FINITE', `gradient norm is ${gradNorm} at step ${this.#step + 1}; no update applied`);
        }
        const lr = this.#lrAt(this.#step);
        this.#optimizer.step(this.#accum, lr);
        this.#step++;
        this.#tokensSeen += tokens;
        this.#history.push({ step: this.#step, loss, lr, gradNorm, tokens });
        computeMs += performance.now() - tStep;
        sessionSteps++;
        sessionTokens += tokens;

        let metrics: Record<string, number> | undefined;
        if (o.evaluate && o.evalEvery && this.#step % o.evalEvery === 0) {
          const r = await o.evaluate(o.params, this.#step);
          metrics = typeof r === 'number' ? { loss: r } : { ...r };
          this.#evals.push({ step: this.#step, metrics });
        }
        const due = ck && ((ck.every > 0 && this.#step % ck.every === 0) || (ck.everySeconds > 0 && performance.now() - lastSavedAt >= ck.everySeconds * 1000));
        if (ck && due) {
          await this.#save(ck);
          lastSaved = this.#step;
          lastSavedAt = performance.now();
        }
        if (o.onProgress) {
          const elapsedSec = (performance.now() - t0) / 1000;
          const event: ProgressEvent = {
            step: this.#step,
            totalSteps: o.totalSteps,
            epoch,
            loss,
            lr,
            gradNorm,
            tokens,
            tokensPerSec: computeMs > 0 ? (sessionTokens * 1000) / computeMs : 0,
            etaSec: (elapsedSec / sessionSteps) * (o.totalSteps - this.#step),
            elapsedSec,
          };
          if (metrics) event.eval = metrics;
          o.onProgress(event);
        }
      }
      if (ck && ck.saveAtEnd && lastSaved !== this.#step && (this.#step === o.totalSteps || stopped)) {
        await this.#save(ck);
      }
    } finally {
      await this.#closeIterator();
    }
    return {
      step: this.#step,
      history: [...this.#history],
      evals: [...this.#evals],
      stopped,
      lastCheckpoint: this.#lastCheckpoint,
      resumedFrom: this.#resumedFrom,
    };
  }

  // Runs gradAccumSteps micro-batches and leaves their mean gradient in #accum.
  async #accumulateStep(): Promise<{ loss: number; tokens: number; epoch: number }> {
    const o = this.#o;
    let lossSum = 0;
    let tokens = 0;
    let epoch = this.#epoch;
    for (let micro = 0; micro < this.#accumSteps; micro++) {
      const batch = await this.#nextBatch();
      epoch = this.#epoch;
      const ctx = { step: this.#step, micro, epoch, seed: mixSeeds(this.#seed, MICRO_STREAM, this.#step, micro) };
      const r = await o.lossAndGrads(o.params, batch, ctx);
      if (!Number.isFinite(r.loss)) {
        throw new DistillError('NON_FINITE', `loss is ${r.loss} at step ${this.#step + 1}, micro-batch ${micro}; no update applied`);
      }
      this.#addGrads(r.grads, micro);
      lossSum += r.loss;
      tokens += r.tokens;
    }
    if (this.#accumSteps > 1) {
      const inv = 1 / this.#accumSteps;
      for (const a of this.#accum.values()) for (let i = 0; i < a.length; i++) a[i] *= inv;
    }
    return { loss: lossSum / this.#accumSteps, tokens, epoch };
  }

  #addGrads(grads: GradSource, micro: number): void {
    const params = this.#o.params;
    const isMap = grads instanceof Map;
    const names = isMap ? (grads as ReadonlyMap<string, Float32Array>).keys() : Object.keys(grads);
    for (const name of names) {
      if (!params.has(name)) throw new DistillError('BAD_GRADS', `lossAndGrads returned a gradient for '${name}', which is not a parameter`);
    }
    for (const name of this.#trainable) {
      const g = isMap ? (grads as ReadonlyMap<string, Float32Array>).get(name) : (grads as Record<string, Float32Array>)[name];
      const a = this.#accum.get(name)!;
      if (g === undefined) throw new DistillError('BAD_GRADS', `lossAndGrads returned no gradient for trainable parameter '${name}'`);
      if (g.length !== a.length) {
        throw new DistillError('BAD_GRADS', `gradient of '${name}' has ${g.length} elements, the parameter has ${a.length}`);
      }
      if (micro === 0) a.set(g);
      else for (let i = 0; i < a.length; i++) a[i] += g[i];
    }
  }

  // Next micro-batch, rolling over to the next epoch when one ends.
  async #nextBatch(): Promise<B> {
    for (let attempt = 0; attempt < 2; attempt++) {
      if (this.#iter === null) {
        const it = this.#o.data.batches(mixSeeds(this.#seed, DATA_STREAM, this.#epoch), this.#position);
        this.#iter =
          Symbol.asyncIterator in it ? (it as AsyncIterable<B>)[Symbol.asyncIterator]() : (it as Iterable<B>)[Symbol.iterator]();
      }
      const r = await this.#iter.next();
      if (!r.done) {
        this.#position++;
        this.#microBatches++;
        return r.value;
      }
      this.#iter = null;
      if (this.#position === 0) break;
      this.#epoch++;
      this.#position = 0;
    }
    throw new DistillError('DATA_EXHAUSTED', `the data source yielded no batch for epoch ${this.#epoch}`);
  }

  async #closeIterator(): Promise<void> {
    const it = this.#iter;
    this.#iter = null;
    if (it?.return) await it.return();
  }

  async #save(ck: Required<CheckpointOptions>): Promise<void> {
    const o = this.#o;
    const model = new Map<string, StoredTensor>();
    for (const [name, data] of o.params) model.set(name, { shape: this.#shapes.get(name)!, data });
    const optState = this.#optimizer.state();
    const optimizer = new Map<string, StoredTensor>();
    for (const [key, data] of optState.tensors) {
      const dot = key.lastIndexOf('.');
      const slot = key.slice(dot + 1);
      // Per-parameter step counters are 0-d tensors, as torch stores them; moments take their parameter's shape.
      optimizer.set(key, { shape: slot === 'step' ? [] : this.#shapes.get(key.slice(0, dot))!, data });
    }
    const state: Omit<TrainerStateJson, 'files'> = {
      format: TRAINER_STATE_FORMAT,
      version: TRAINER_STATE_VERSION,
      step: this.#step,
      totalSteps: o.totalSteps,
      gradAccumSteps: this.#accumSteps,
      seed: this.#seed,
      data: { epoch: this.#epoch, position: this.#position, microBatches: this.#microBatches },
      tokensSeen: this.#tokensSeen,
      optimizer: { kind: this.#optimizer.kind, stepCount: this.#optimizer.stepCount, hyper: describeHyper(o.optimizer) },
      schedule: this.#schedule,
      baseLr: o.optimizer.lr,
      maxGradNorm: o.maxGradNorm ?? null,
      trainable: [...this.#trainable],
      frozen: [...this.#frozen],
      history: this.#history,
      evals: this.#evals,
    };
    const path = await writeCheckpoint(ck.dir, {
      step: this.#step,
      model,
      optimizer,
      optimizerMetadata: { format: 'mil-optimizer', kind: optState.kind, step: String(optState.step) },
      state,
      fsync: ck.fsync,
    });
    this.#lastCheckpoint = path;
    await pruneCheckpoints(ck.dir, ck.keepLast, path);
    o.onCheckpoint?.(path, this.#step);
  }

  async #resume(): Promise<void> {
    const o = this.#o;
    if (o.resume === undefined) return;
    let path: string;
    if (o.resume === 'latest') {
      const all = await listCheckpoints(this.#checkpoint!.dir);
      if (all.length === 0) return; // nothing saved yet: a fresh start
      path = all[all.length - 1].path;
    } else {
      path = o.resume;
    }
    const c = await openCheckpoint(path);
    try {
      this.#checkCompatible(c);
      const tensors = new Map<string, Float32Array>();
      for (const name of c.optimizer.names) tensors.set(name, await readF32(c, 'optimizer', name));
      try {
        this.#optimizer.loadState({ kind: c.state.optimizer.kind, step: c.state.optimizer.stepCount, tensors });
      } catch (e) {
        throw new DistillError('CHECKPOINT_MISMATCH', `${path}: optimizer state does not fit this run: ${(e as Error).message}`, { cause: e });
      }
      // Shapes were all checked above, so this copy cannot stop half-way on a mismatch.
      for (const [name, data] of o.params) data.set(await readF32(c, 'model', name));
      const s = c.state;
      this.#step = s.step;
      this.#epoch = s.data.epoch;
      this.#position = s.data.position;
      this.#microBatches = s.data.microBatches;
      this.#tokensSeen = s.tokensSeen;
      this.#history = s.history.map((r) => ({ ...r }));
      this.#evals = s.evals.map((r) => ({ step: r.step, metrics: { ...r.metrics } }));
      this.#resumedFrom = path;
      this.#lastCheckpoint = path;
    } finally {
      await c.model.close();
      await c.optimizer.close();
    }
  }

  #checkCompatible(c: OpenedCheckpoint): void {
    const o = this.#o;
    const s = c.state;
    const mismatch = (msg: string): never => {
      throw new DistillError('CHECKPOINT_MISMATCH', `${c.path}: ${msg}`);
    };
    const inCkpt = new Set(c.model.names);
    const missing = [...o.params.keys()].filter((n) => !inCkpt.has(n));
    const extra = c.model.names.filter((n) => !o.params.has(n));
    if (missing.length || extra.length) {
      mismatch(`parameters differ: missing from checkpoint [${missing.slice(0, 5).join(', ')}], unknown [${extra.slice(0, 5).join(', ')}]`);
    }
    for (const [name, shape] of this.#shapes) {
      const info = c.model.info(name);
      if (info.dtype !== 'F32' || info.shape.length !== shape.length || info.shape.some((d, i) => d !== shape[i])) {
        mismatch(`'${name}' is ${info.dtype}[${info.shape.join(', ')}] in the checkpoint, F32[${shape.join(', ')}] here`);
      }
    }
    const sameSet = (a: readonly string[], b: readonly string[]) => a.length === b.length && a.every((x) => new Set(b).has(x));
    if (!sameSet(s.trainable, this.#trainable)) mismatch('the set of trainable parameters differs (freeze / trainable changed)');
    if (s.optimizer.kind !== this.#optimizer.kind) mismatch(`optimizer is '${s.optimizer.kind}' in the checkpoint, '${this.#optimizer.kind}' here`);
    if (s.gradAccumSteps !== this.#accumSteps) mismatch(`gradAccumSteps is ${s.gradAccumSteps} in the checkpoint, ${this.#accumSteps} here`);
    if (s.seed !== this.#seed) mismatch(`seed is ${s.seed} in the checkpoint, ${this.#seed} here (the data order would differ)`);
    if (s.step > o.totalSteps) mismatch(`checkpoint is at step ${s.step}, beyond totalSteps ${o.totalSteps}`);
  }
}

async function readF32(c: OpenedCheckpoint, which: 'model' | 'optimizer', name: string): Promise<Float32Array> {
  try {
    return await c[which].read(name, { as: 'float32' });
  } catch (e) {
    throw new DistillError('CHECKPOINT_CORRUPT', `${c.path}: tensor '${name}' of the ${which} file cannot be read: ${(e as Error).message}`, {
      cause: e,
    });
  }
}

// Optimizer options as JSON-safe values (filters and functions become their source text).
function describeHyper(opt: object): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(opt)) {
    out[k] = typeof v === 'function' || v instanceof RegExp ? String(v) : Array.isArray(v) ? v.map((x) => (x instanceof RegExp ? String(x) : x)) : v;
  }
  return out;
}

/**
 * Train with a new {@link Trainer}: `train(opts)` is `new Trainer(opts).run()`.
 *
 * @example
 * const { history } = await train({ params, lossAndGrads, data, totalSteps: 100, optimizer: { lr: 1e-3 } });
 */
export function train<B>(options: TrainerOptions<B>): Promise<TrainResult> {
  return new Trainer(options).run();
}
