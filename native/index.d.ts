/**
 * The addon's whole surface. Tensors cross the boundary as NativeTensor views; each
 * kernel family declares its functions in native/types/<family>.d.ts and they are
 * joined here. Kernels with many arguments take one options object of named fields.
 * Every function throws NativeError("[name] ...") on failure.
 */
import type { NativeCore } from './types/core.d.ts';
import type { NativeMatmul } from './types/matmul.d.ts';
import type { NativeEltwise } from './types/eltwise.d.ts';
import type { NativeBinary } from './types/binary.d.ts';
import type { NativeReduce } from './types/reduce.d.ts';
import type { NativeConv } from './types/conv.d.ts';
import type { NativePool } from './types/pool.d.ts';
import type { NativeNorm } from './types/norm.d.ts';
import type { NativeIndex } from './types/index.d.ts';
import type { NativeResample } from './types/resample.d.ts';
import type { NativeRandom } from './types/random.d.ts';
import type { NativeImage } from './types/image.d.ts';
import type { NativeOptim } from './types/optim.d.ts';

export type { NativeTensor } from './types/core.d.ts';
export type { NativeConvGeometry, NativeConvForwardArgs } from './types/conv.d.ts';
export type { NativeMatmulArgs } from './types/matmul.d.ts';
export type { NativePoolGeometry } from './types/pool.d.ts';

export type NativeAddon = NativeCore &
  NativeMatmul &
  NativeEltwise &
  NativeBinary &
  NativeReduce &
  NativeConv &
  NativePool &
  NativeNorm &
  NativeIndex &
  NativeResample &
  NativeRandom &
  NativeImage &
  NativeOptim;
