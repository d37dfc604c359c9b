// The Mamba layers' side of a hybrid session in multi-step verify form (paper Algorithm 2): per layer the state
// after the last run's steps, the state before them (after its replay), the last run's per-step SSM inputs and the
// conv window, plus how many of the last run's steps are kept. Rolling back is changing that count: the next run
// starts from the right state and replays the kept steps from their cached inputs inside the same ORT run.
import type { HostTensor } from '@mil/graph';
import { ModelsError } from '../oracle/models-error';
import type { HybridDims } from './hybrid-dims';
import { mambaStateNames } from './hybrid-graphs';
import { verifyStateNames } from './hybrid-graphs';

/** One Mamba layer's tensors between runs (as ORT returned them; never written to, so sharing is safe). */
interface LayerState {
  /** Raw conv inputs: d_conv − 1 history columns + the last run's steps. */
  window: HostTensor;
  /** State after all steps of the last run. */
  head: HostTensor;
  /** State before the last run's steps (after its replay). */
  before: HostTensor;
  /** The last run's per-step SSM inputs. */
  x: HostTensor;
  dt: HostTensor;
  B: HostTensor;
}

/** An immutable point of {@link MambaVerifyState} (references, no copies). */
export interface MambaVerifyPoint {
  readonly layers: ReadonlyMap<number, LayerState>;
  /** Steps of the last run. */
  readonly steps: number;
  /** Of those, the ones kept. */
  readonly kept: number;
}

/**
 * The Mamba layers' state of a hybrid session in the verify graph's terms.
 *
 * @example
 * const m = new MambaVerifyState(dims);
 * const out = await runner.run({ input_ids, ...m.feeds(), ...kv.feeds(n) });
 * m.update(out, n);   // all n steps kept
 * m.keep(2);          // roll back to the first 2 of them: replayed by the next run
 */
export class MambaVerifyState {
  private point: MambaVerifyPoint;

  constructor(private readonly dims: HybridDims) {
    this.point = this.empty();
  }

  private empty(): MambaVerifyPoint {
    const d = this.dims;
    const m1 = d.variant === 'mamba1';
    const ssmDims = m1 ? [1, d.dInner, d.dState] : [1, d.nHeads, d.headDim, d.dState];
    const zeros = (dims: number[]): HostTensor => ({ data: new Float32Array(dims.reduce((a, b) => a * b, 1)), dims });
    const ssm = zeros(ssmDims);
    const layer: LayerState = {
      window: zeros([1, d.convChannels, d.dConv - 1]),
      head: ssm,
      before: ssm,
      x: zeros(m1 ? [1, 0, d.dInner] : [1, 0, d.nHeads, d.headDim]),
      dt: zeros(m1 ? [1, 0, d.dInner] : [1, 0, d.nHeads]),
      B: zeros([1, 0, d.nGroups, d.dState]),
    };
    return { layers: new Map(d.ssmLayers.map((i) => [i, layer])), steps: 0, kept: 0 };
  }

  /** Back to zero states. */
  reset(): void {
    this.point = this.empty();
  }

  /** Steps of the last run and how many of them are kept. */
  get last(): { steps: number; kept: number } {
    return { steps: this.point.steps, kept: this.point.kept };
  }

  /**
   * Feeds of the next run: if every step of the last run is kept it continues from the head state (no replay);
   * otherwise from the state before the last run, replaying the kept steps. The conv history is read at the kept
   * count in the window.
   */
  feeds(): Record<string, HostTensor> {
    const { layers, steps, kept } = this.point;
    const all = kept === steps;
    const feeds: Record<string, HostTensor> = {
      conv_offset: { data: BigInt64Array.of(BigInt(kept)), dims: [1] },
      replay_steps: { data: BigInt64Array.of(all ? 0n : BigInt(kept)), dims: [1] },
    };
    for (const [i, s] of layers) {
      const n = mambaStateNames(i);
      const v = verifyStateNames(i);
      feeds[n.pastConv] = s.window;
      feeds[n.pastSsm] = all ? s.head : s.before;
      feeds[v.pastX] = s.x;
      feeds[v.pastDt] = s.dt;
      feeds[v.pastB] = s.B;
    }
    return feeds;
  }

  /** Takes the run's outputs as the new state; all `steps` new steps kept. */
  update(out: Record<string, HostTensor>, steps: number): void {
    const layers = new Map<number, LayerState>();
    const get = (name: string): HostTensor => {
      const t = out[name];
      if (!t) throw new ModelsError('BAD_CACHE', `MambaVerifyState.update: the run returned no ${name}`);
      return { data: t.data, dims: [...t.dims] }; // without the ORT handle
    };
    for (const i of this.dims.ssmLayers) {
      const n = mambaStateNames(i);
      const v = verifyStateNames(i);
      layers.set(i, { window: get(n.presentConv), head: get(n.presentSsm), before: get(v.snapshot), x: get(v.presentX), dt: get(v.presentDt), B: get(v.presentB) });
    }
    this.point = { layers, steps, kept: steps };
  }

  /** Keeps the first `kept` steps of the last run (0 ≤ kept ≤ its steps). */
  keep(kept: number): void {
    if (!Number.isInteger(kept) || kept < 0 || kept > this.point.steps) throw new ModelsError('BAD_CACHE', `MambaVerifyState.keep: ${kept} is outside 0..${this.point.steps}`);
    this.point = { ...this.point, kept };
  }

  /** The current point (references). */
  save(): MambaVerifyPoint {
    return this.point;
  }

  /** Returns to a saved point. */
  load(p: MambaVerifyPoint): void {
    this.point = p;
  }

  /** Bytes of the sequence's Mamba state: conv history (d_conv − 1 columns) and SSM state per layer. */
  get bytes(): number {
    const d = this.dims;
    const ssm = d.variant === 'mamba1' ? d.dInner * d.dState : d.nHeads * d.headDim * d.dState;
    return d.ssmLayers.length * (d.convChannels * (d.dConv - 1) + ssm) * 4;
  }
}
