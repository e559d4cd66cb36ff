/**
 * Replays op fixtures written by tools/reference/common.py (run_cases): for each case,
 * runs our op on the same inputs (same non-contiguous views), compares outputs, then
 * backpropagates the stored cotangent and compares input grads.
 *
 * Tolerance rule (DESIGN.md): max |ours − ref| ≤ tol · max(1, max |ref|), tol = 1e-4 for
 * float32 and 2e-2 for bfloat16; integer and bool outputs must match exactly.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { readSafetensors } from '../../src/io/safetensors.ts';
import { Tensor, isFloating } from '../../src/tensor/index.ts';
import { permute } from '../../src/tensor/ops/shape.ts';
import { cast } from '../../src/tensor/ops/elementwise.ts';

export const F32_TOL = 1e-4;
export const BF16_TOL = 2e-2;

export const fixturesDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'fixtures');

/** What an op table entry returns: one tensor, several, or values/indices. */
export type OpResult = Tensor | Tensor[] | { values: Tensor; indices: Tensor };
/** An op table entry: our implementation of a fixture op key. */
export type OpFn = (inputs: Tensor[], kwargs: Record<string, any>) => OpResult;

interface CaseSpec {
  name: string;
  op: string;
  kwargs: Record<string, any>;
  bf16: boolean;
  inputs: { permute: number[] | null; grad: boolean }[];
  outputs: number;
  grads: number[];
}

function toList(r: OpResult): Tensor[] {
  if (r instanceof Tensor) return [r];
  if (Array.isArray(r)) return r;
  return [r.values, r.indices];
}

/** Max |a − b| over elements, treating matching NaN/Inf as equal; throws on a shape mismatch. */
export function maxAbsDiff(actual: Tensor, expected: Tensor, label: string): { diff: number; scale: number } {
  assert.deepEqual([...actual.shape], [...expected.shape], `${label}: shape`);
  const a = actual.toArray();
  const e = expected.toArray();
  let diff = 0;
  let scale = 1;
  for (let i = 0; i < e.length; ++i) {
    const x = Number(a[i]);
    const y = Number(e[i]);
    if (Number.isNaN(y) || !Number.isFinite(y)) {
      assert.ok(Object.is(x, y) || (Number.isNaN(x) && Number.isNaN(y)), `${label}: element ${i} is ${x}, expected ${y}`);
      continue;
    }
    scale = Math.max(scale, Math.abs(y));
    const d = Math.abs(x - y);
    diff = Number.isNaN(d) ? Infinity : Math.max(diff, d);
  }
  return { diff, scale };
}

/** Asserts actual ≈ expected under the tolerance rule above (exact for non-float dtypes). */
export function assertClose(actual: Tensor, expected: Tensor, tol: number, label: string): void {
  if (!isFloating(expected.dtype)) {
    assert.deepEqual(
      cast(actual, expected.dtype === 'bool' ? 'bool' : 'int64').tolist(),
      cast(expected, expected.dtype === 'bool' ? 'bool' : 'int64').tolist(),
      `${label}: values`,
    );
    return;
  }
  const { diff, scale } = maxAbsDiff(actual, expected, label);
  assert.ok(diff <= tol * scale, `${label}: max abs diff ${diff.toExponential(3)} exceeds ${tol} × scale ${scale.toPrecision(4)}`);
}

/** Registers one node:test test per fixture case, checked with our op table. */
export function checkOpFixture(fixture: string, table: Record<string, OpFn>): void {
  const file = path.join(fixturesDir, 'ops', fixture);
  const { tensors, metadata } = readSafetensors(file);
  const cases = JSON.parse(metadata.cases) as CaseSpec[];
  for (const c of cases) {
    const fn = table[c.op];
    test(`${c.op}: ${c.name}`, () => {
      assert.ok(fn, `no op table entry for '${c.op}'`);
      const get = (k: string) => {
        const t = tensors.get(`${c.name}/${k}`);
        assert.ok(t, `fixture lacks ${c.name}/${k}`);
        return t;
      };
      const leaves: Tensor[] = [];
      const inputs = c.inputs.map((spec, j) => {
        const base = get(`in${j}`).detach();
        if (spec.grad) base.requiresGrad_(true);
        leaves.push(base);
        return spec.permute ? permute(base, spec.permute) : base;
      });
      const outs = toList(fn(inputs, c.kwargs));
      assert.equal(outs.length, c.outputs, 'number of outputs');
      outs.forEach((o, k) => assertClose(o, get(`out${k}`), F32_TOL, `output ${k}`));
      if (c.grads.length > 0) {
        outs[0].backward(get('cot0'));
        for (const j of c.grads) {
          const g = leaves[j].grad;
          const ref = get(`grad${j}`);
          const expected = c.inputs[j].permute ? permute(ref, inverse(c.inputs[j].permute!)) : ref;
          assert.ok(g, `input ${j} got no grad`);
          assertClose(g, expected, F32_TOL, `grad of input ${j}`);
        }
      }
      if (c.bf16) {
        const low = c.inputs.map((_, j) => {
          const x = inputs[j].detach();
          return isFloating(x.dtype) ? cast(x, 'bfloat16') : x;
        });
        const lowOuts = toList(fn(low, c.kwargs));
        lowOuts.forEach((o, k) => {
          if (isFloating(o.dtype)) {
            assert.equal(o.dtype, 'bfloat16', `bf16 output ${k} dtype`);
            assertClose(cast(o, 'float32'), get(`out${k}`), BF16_TOL, `bf16 output ${k}`);
          }
        });
      }
    });
  }
}

function inverse(p: number[]): number[] {
  const out = new Array<number>(p.length);
  p.forEach((v, i) => (out[v] = i));
  return out;
}
