/**
 * The Winograd F(4×4, 3×3) kernel that inference 3×3 convolutions on channels-last tensors take:
 * against a float64 direct convolution (partial tiles at the right and bottom edges included), with
 * the fused epilogue against the recorded ops, in bf16, after a weight write, and the shapes that
 * must keep the direct kernel. Tolerance: max abs error ≤ 1e-4 × the reference's max abs value.
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, test } from 'node:test';
import * as T from '../../src/tensor/index.ts';
import { ArgumentError } from '../../src/errors.ts';
import { BF16_TOL, F32_TOL, assertClose } from '../helpers/opcheck.ts';

const g = new T.Generator(11);
// By default the kernel runs on CPUs without AVX-512 only; these tests run it on any CPU.
beforeEach(() => T.configure({ convWinograd: 'always' }));
afterEach(() => T.configure({ convWinograd: true }));

// Direct 3×3, stride 1, padding 1 convolution in float64, NCHW.
function referenceConv(x: T.Tensor, w: T.Tensor, b: T.Tensor | null): T.Tensor {
  const [n, c, h, wd] = x.shape;
  const k = w.shape[0];
  const xs = Float64Array.from(T.contiguous(x).toArray() as Float32Array);
  const ws = Float64Array.from(T.contiguous(w).toArray() as Float32Array);
  const bs = b ? (b.toArray() as Float32Array) : null;
  const out = new Float32Array(n * k * h * wd);
  for (let ni = 0; ni < n; ni++)
    for (let ki = 0; ki < k; ki++)
      for (let y = 0; y < h; y++)
        for (let xx = 0; xx < wd; xx++) {
          let acc = bs ? bs[ki] : 0;
          for (let ci = 0; ci < c; ci++)
            for (let r = 0; r < 3; r++) {
              const row = y + r - 1;
              if (row < 0 || row >= h) continue;
              for (let s = 0; s < 3; s++) {
                const col = xx + s - 1;
                if (col < 0 || col >= wd) continue;
                acc += xs[((ni * c + ci) * h + row) * wd + col] * ws[((ki * c + ci) * 3 + r) * 3 + s];
              }
            }
          out[((ni * k + ki) * h + y) * wd + xx] = acc;
        }
  return T.tensor(out).reshape([n, k, h, wd]);
}

function inference(x: T.Tensor, w: T.Tensor, b: T.Tensor | null, options: T.ConvOptions = { padding: 1 }): T.Tensor {
  return T.noGrad(() => T.conv2d(x, w, b, options));
}

function maxAbsDiff(a: T.Tensor, b: T.Tensor): number {
  const av = T.contiguous(a).toArray() as Float32Array;
  const bv = T.contiguous(b).toArray() as Float32Array;
  let d = 0;
  for (let i = 0; i < av.length; i++) d = Math.max(d, Math.abs(av[i] - bv[i]));
  return d;
}

test('Winograd conv equals a float64 direct conv, with partial tiles at the edges and a bias', () => {
  const x = T.toChannelsLast(T.randn([2, 16, 10, 13], { generator: g }));
  const w = T.randn([24, 16, 3, 3], { generator: g }).mul(0.2);
  const b = T.randn([24], { generator: g });
  const expected = referenceConv(x, w, b);
  const winograd = inference(x, w, b);
  assertClose(winograd, expected, F32_TOL, 'winograd');
  T.configure({ convWinograd: false });
  assert.equal(T.isConvWinogradEnabled(), false);
  const direct = inference(x, w, b);
  assertClose(direct, expected, F32_TOL, 'direct');
  assert.ok(maxAbsDiff(winograd, direct) > 0, 'the Winograd kernel ran (its rounding differs from the direct kernel)');
});

test('Winograd conv with the fused epilogue (scale, shift, residual, ReLU) equals the recorded ops', () => {
  const x = T.toChannelsLast(T.randn([2, 8, 12, 12], { generator: g }));
  const w = T.randn([16, 8, 3, 3], { generator: g }).mul(0.3);
  const epilogue = {
    scale: T.rand([16], { generator: g }).add(0.5),
    shift: T.randn([16], { generator: g }),
    residual: T.toChannelsLast(T.randn([2, 16, 12, 12], { generator: g })),
    relu: true,
  };
  const recorded = T.conv2dEpilogue(x.detach().requiresGrad_(true), w, null, { padding: 1 }, epilogue).detach();
  const fused = T.noGrad(() => T.conv2dEpilogue(x, w, null, { padding: 1 }, epilogue));
  assertClose(fused, recorded, F32_TOL, 'fused epilogue');
  T.configure({ convWinograd: false });
  assert.ok(maxAbsDiff(fused, T.noGrad(() => T.conv2dEpilogue(x, w, null, { padding: 1 }, epilogue))) > 0, 'the Winograd kernel ran');
});

test('Winograd conv in bf16 stays within the bf16 tolerance of the float64 conv', () => {
  const x = T.toChannelsLast(T.randn([1, 16, 20, 20], { generator: g }));
  const w = T.randn([16, 16, 3, 3], { generator: g }).mul(0.2);
  const low = inference(T.toChannelsLast(x.to('bfloat16')), w.to('bfloat16'), null);
  assert.equal(low.dtype, 'bfloat16');
  assertClose(low.float(), referenceConv(x, w, null), BF16_TOL, 'bf16');
});

test('Winograd conv sees a write to its weight (the transformed copy is rebuilt)', () => {
  const x = T.toChannelsLast(T.randn([1, 8, 16, 16], { generator: g }));
  const w = T.randn([8, 8, 3, 3], { generator: g });
  inference(x, w, null);
  w.copy_(T.mul(w, -0.5));
  assertClose(inference(x, w, null), referenceConv(x, w, null), F32_TOL, 'after copy_ into the weight');
});

test('shapes outside the Winograd kernel keep the direct kernel, bit for bit', () => {
  const cases: { name: string; x: T.Tensor; w: number[]; options?: T.ConvOptions }[] = [
    { name: 'too few tiles (one 7×7 image)', x: T.toChannelsLast(T.randn([1, 8, 7, 7], { generator: g })), w: [8, 8, 3, 3] },
    { name: 'channels not a multiple of 8', x: T.toChannelsLast(T.randn([2, 6, 16, 16], { generator: g })), w: [8, 6, 3, 3] },
    { name: 'stride 2', x: T.toChannelsLast(T.randn([2, 8, 16, 16], { generator: g })), w: [8, 8, 3, 3], options: { stride: 2, padding: 1 } },
    { name: 'dilation 2', x: T.toChannelsLast(T.randn([2, 8, 16, 16], { generator: g })), w: [8, 8, 3, 3], options: { dilation: 2, padding: 2 } },
    { name: 'NCHW input', x: T.randn([2, 8, 16, 16], { generator: g }), w: [8, 8, 3, 3] },
  ];
  for (const c of cases) {
    const w = T.randn(c.w, { generator: g });
    T.configure({ convWinograd: 'always' });
    const auto = inference(c.x, w, null, c.options);
    T.configure({ convWinograd: false });
    assert.equal(maxAbsDiff(auto, inference(c.x, w, null, c.options)), 0, c.name);
  }
});

test('a conv that records gradients keeps the direct kernel', () => {
  const x = T.toChannelsLast(T.randn([2, 8, 16, 16], { generator: g }));
  const w = T.randn([8, 8, 3, 3], { generator: g }).requiresGrad_(true);
  const recorded = T.conv2d(x, w, null, { padding: 1 }).detach();
  T.configure({ convWinograd: false });
  assert.equal(maxAbsDiff(recorded, inference(x, w, null)), 0);
});

test('convWinograd modes: off, where faster (CPUs without AVX-512), always; anything else is refused', () => {
  T.configure({ convWinograd: false });
  assert.equal(T.isConvWinogradEnabled(), false);
  T.configure({ convWinograd: 'always' });
  assert.equal(T.isConvWinogradEnabled(), true);
  T.configure({ convWinograd: true });
  assert.equal(T.isConvWinogradEnabled(), !T.native.oneDnnHasBf16(), 'on exactly where oneDNN has no AVX-512 kernels');
  assert.throws(() => T.configure({ convWinograd: 'yes' as never }), (e: Error) => e instanceof ArgumentError && /convWinograd must be true, false or 'always', got 'yes'/.test(e.message));
});

test('the native conv without a packed-weights holder transforms the weights per call, correctly', () => {
  const x = T.toChannelsLast(T.randn([2, 16, 12, 12], { generator: g }));
  const w = T.randn([16, 16, 3, 3], { generator: g }).mul(0.2);
  const out = T.toChannelsLast(T.zeros([2, 16, 12, 12]));
  T.native.convForward({ x, weight: w, out, stride: [1, 1], padLeft: [1, 1], padRight: [1, 1], dilation: [1, 1], groups: 1, transposed: false, inference: true });
  assertClose(out, referenceConv(x, w, null), F32_TOL, 'no holder');
});
