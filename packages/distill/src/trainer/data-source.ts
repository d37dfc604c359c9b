// Reproducible, resumable sources of micro-batches.
import { DistillError } from '../errors';
import { seededPermutation } from './seeds';

/**
 * Where training batches come from. `batches(epochSeed, position)` yields one epoch's micro-batches in an order
 * fixed by `epochSeed`, skipping the first `position` of them. Contract: for any p, the sequence from `position = p`
 * equals the sequence from `position = 0` with its first p items dropped; that is what makes resumption exact.
 * The epoch ends when the iterable ends.
 */
export interface DataSource<B> {
  batches(epochSeed: number, position: number): Iterable<B> | AsyncIterable<B>;
}

export interface ArrayDataSourceOptions<T, B> {
  /** Items per micro-batch. */
  batchSize: number;
  /** Reshuffle every epoch from its seed (default true). */
  shuffle?: boolean;
  /** Drop the last, smaller batch of an epoch (default false). */
  dropLast?: boolean;
  /** Turns the items of one micro-batch into what `lossAndGrads` takes (default: the array of items). */
  collate?: (items: T[]) => B;
}

/**
 * A {@link DataSource} over an in-memory array: seeded shuffle per epoch, fixed-size micro-batches.
 *
 * @example
 * const data = arrayDataSource(examples, { batchSize: 8, collate: (xs) => packBatch(xs) });
 * await train({ ...opts, data });
 */
export function arrayDataSource<T, B = T[]>(items: readonly T[], options: ArrayDataSourceOptions<T, B>): DataSource<B> {
  const { batchSize, shuffle = true, dropLast = false } = options;
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    throw new DistillError('BAD_OPTION', `arrayDataSource: batchSize must be an integer >= 1, got ${batchSize}`);
  }
  const collate = options.collate ?? ((xs: T[]) => xs as unknown as B);
  const n = items.length;
  const numBatches = dropLast ? Math.floor(n / batchSize) : Math.ceil(n / batchSize);
  return {
    *batches(epochSeed: number, position: number): Iterable<B> {
      const order = shuffle ? seededPermutation(n, epochSeed) : null;
      for (let b = position; b < numBatches; b++) {
        const end = Math.min(n, (b + 1) * batchSize);
        const batch: T[] = [];
        for (let i = b * batchSize; i < end; i++) batch.push(items[order ? order[i] : i]);
        yield collate(batch);
      }
    },
  };
}
