import type { DType, Dim } from './onnx/model-spec';
import type { Graph } from './graph';

/** A symbolic tensor: a named value in a Graph with a dtype and a (possibly symbolic) shape known at build time. */
export class Tensor {
  constructor(
    readonly graph: Graph,
    readonly name: string,
    readonly dtype: DType,
    readonly shape: readonly Dim[],
  ) {}

  get rank(): number {
    return this.shape.length;
  }

  toString(): string {
    return `${this.name}: ${this.dtype}[${this.shape.join(', ')}]`;
  }
}

export type Shape = readonly Dim[];
