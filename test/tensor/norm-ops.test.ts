/**
 * Parity of batch/layer/group norm and interpolate with torch; fixture from tools/reference/ops_norm.py.
 * Batch norm training cases also compare the running statistics updated in place.
 */
import * as T from '../../src/tensor/index.ts';
import { checkOpFixture, type OpFn } from '../helpers/opcheck.ts';

const table: Record<string, OpFn> = {
  batchNorm: ([x, mean, variance, weight, bias], k) => {
    // Fresh copies: the update is in place and the fixture's tensors are reused by the bf16 run.
    const runningMean = mean.clone();
    const runningVar = variance.clone();
    const out = T.batchNorm(x, runningMean, runningVar, weight, bias, { training: k.training, momentum: k.momentum, eps: k.eps });
    return k.training ? [out, runningMean, runningVar] : out;
  },
  batchNormNoStats: ([x, weight, bias]) => T.batchNorm(x, null, null, weight, bias, { training: true }),
  layerNorm: ([x, ...params], k) => {
    const weight = k.weight ? params[0] : null;
    const bias = k.bias ? params[params.length - 1] : null;
    return T.layerNorm(x, k.shape, weight, bias, k.eps);
  },
  groupNorm: ([x, weight, bias], k) => T.groupNorm(x, k.groups, weight, bias, k.eps),
  interpolate: ([x], k) => T.interpolate(x, { size: k.size, scaleFactor: k.scaleFactor, mode: k.mode, alignCorners: k.alignCorners }),
};

checkOpFixture('norm.safetensors', table);
