/**
 * Weights reordered to a kernel's preferred layout (conv and linear at inference), cached per
 * weight tensor while its storage and that storage's write count are the ones seen when packing:
 * an optimizer step, a load or any in-place write makes the next call repack.
 */
import type { Tensor } from '../tensor.ts';

interface PackedWeights {
  storage: Tensor['storage'];
  version: number;
  holder: { buffer?: ArrayBuffer };
}
const packedWeights = new WeakMap<Tensor, PackedWeights>();

/** The holder the native kernel keeps `weight`'s packed copy in; a fresh one once the weight was written. */
export function packedWeightsOf(weight: Tensor): { buffer?: ArrayBuffer } {
  const entry = packedWeights.get(weight);
  if (entry && entry.storage === weight.storage && entry.version === weight.storage.version) return entry.holder;
  const fresh = { storage: weight.storage, version: weight.storage.version, holder: {} };
  packedWeights.set(weight, fresh);
  return fresh.holder;
}
