/** Parity of the conv family (conv, transposed conv, pooling) with torch; fixture from tools/reference/ops_conv.py. */
import * as T from '../../src/tensor/index.ts';
import { checkOpFixture, type OpFn } from '../helpers/opcheck.ts';

type Conv = (x: T.Tensor, w: T.Tensor, b: T.Tensor | null, o: any) => T.Tensor;
type Pool = (x: T.Tensor, o: any) => T.Tensor;

const conv = (f: Conv): OpFn => ([x, w, b], k) => f(x, w, b ?? null, k);
const pool = (f: Pool): OpFn => ([x], k) => f(x, k);
const adaptive = (f: (x: T.Tensor, size: T.SpatialArg) => T.Tensor): OpFn => ([x], k) => f(x, k.outputSize);

// The recorded composition (inputs require grad) and the fused kernel (no grad) on the same values.
const epilogue: OpFn = (inputs, k) => {
  const { slots, relu, ...geometry } = k;
  const run = (a: T.Tensor[]) =>
    T.conv2dEpilogue(a[0], a[1], a[2], geometry, {
      scale: slots.scale === undefined ? null : a[slots.scale],
      shift: slots.shift === undefined ? null : a[slots.shift],
      residual: slots.residual === undefined ? null : a[slots.residual],
      relu,
    });
  return [run(inputs), T.noGrad(() => run(inputs.map((t) => t.detach())))];
};

const table: Record<string, OpFn> = {
  conv2dEpilogue: epilogue,
  conv1d: conv(T.conv1d),
  conv2d: conv(T.conv2d),
  conv3d: conv(T.conv3d),
  convTranspose1d: conv(T.convTranspose1d),
  convTranspose2d: conv(T.convTranspose2d),
  convTranspose3d: conv(T.convTranspose3d),
  maxPool1d: pool(T.maxPool1d),
  maxPool2d: pool(T.maxPool2d),
  maxPool3d: pool(T.maxPool3d),
  avgPool1d: pool(T.avgPool1d),
  avgPool2d: pool(T.avgPool2d),
  avgPool3d: pool(T.avgPool3d),
  adaptiveAvgPool1d: adaptive(T.adaptiveAvgPool1d),
  adaptiveAvgPool2d: adaptive(T.adaptiveAvgPool2d),
  adaptiveAvgPool3d: adaptive(T.adaptiveAvgPool3d),
};

checkOpFixture('conv.safetensors', table);
