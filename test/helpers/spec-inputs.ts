/** Test inputs made from a model's input spec: random floats, random integers within the spec's range. */
import assert from 'node:assert/strict';
import * as T from '../../src/index.ts';

/** A spec shape with the batch first and every named dim at the spec's size for it, or at `batch` where it names an input's batch (a dim the spec gives no size fails the test). */
export function specShape(spec: T.ModelSpec, dims: readonly T.SpecDim[], batch: number): number[] {
  const batchDims = new Set(spec.inputs.map((input) => input.batchDim ?? 'N'));
  return [batch, ...dims.map((d) => {
    if (typeof d === 'number') return d;
    if (batchDims.has(d)) return batch;
    assert.ok(spec.sizes[d] !== undefined, `the spec gives no size for dim '${d}'`);
    return spec.sizes[d];
  })];
}

/** One tensor per input of the spec (optional ones included), batch `batch`. */
export function inputsFromSpec(spec: T.ModelSpec, batch = 1, generator = new T.Generator(0)): Map<string, T.Tensor> {
  return new Map(spec.inputs.map((input) => {
    const shape = specShape(spec, input.shape, batch);
    if (T.isFloating(input.dtype)) return [input.name, T.randn(shape, { generator })];
    const [lo, hi] = input.range ?? [0, 2];
    return [input.name, T.randint(lo, hi, shape, { generator, dtype: input.dtype })];
  }));
}
