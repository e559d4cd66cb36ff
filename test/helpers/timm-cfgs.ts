/**
 * Checks registry entries' pretrained cfgs against timm's, as the tools/reference/*_extra.py
 * scripts record them (metadata `timm_cfgs`: per model, its tags in timm's order with hub id,
 * input size, crop, interpolation, mean/std, classes, first conv, classifier and license).
 */
import assert from 'node:assert/strict';
import { listModels, resolveModel } from '../../src/models/index.ts';

/** One pretrained cfg as the reference scripts record timm's. */
export interface TimmCfg {
  tag: string;
  /** False for timm's tags without weights (their hub id is not used); true when absent. */
  hasWeights?: boolean;
  hubId: string | null;
  inputSize: number[];
  cropPct: number;
  interpolation: string;
  mean: number[];
  std: number[];
  numClasses: number;
  firstConv: string;
  classifier: string | string[];
  license: string;
}

/** Equal lengths and values within 1e-9 (means and stds written with different digits). */
export const closeNumbers = (a: readonly number[], b: readonly number[]): boolean => a.length === b.length && a.every((v, i) => Math.abs(v - b[i]) < 1e-9);

/**
 * Asserts that the registry models for which `include` holds are exactly timm's models in
 * `timmCfgs`, with timm's tags (in timm's order) and, per tag, its hub id, preprocessing, head and license.
 */
export function assertTimmCfgs(include: (name: string, family: string) => boolean, timmCfgs: Record<string, TimmCfg[]>): void {
  const names = listModels().filter((n) => include(n, resolveModel(n).entry.family));
  assert.deepEqual([...names].sort(), Object.keys(timmCfgs).sort(), 'variants');
  for (const name of names) {
    const { entry } = resolveModel(name);
    assert.deepEqual(Object.keys(entry.pretrained), timmCfgs[name].map((c) => c.tag), `${name} tags`);
    for (const c of timmCfgs[name]) {
      const ours = entry.pretrained[c.tag];
      const image = ours.preprocess.image!;
      const label = `${name}.${c.tag}`;
      assert.equal(ours.hubId ?? null, c.hasWeights === false ? null : c.hubId, `${label} hub id`);
      assert.deepEqual(image.inputSize, c.inputSize, `${label} input size`);
      assert.equal(image.cropPct, c.cropPct, `${label} crop`);
      assert.equal(image.interpolation, c.interpolation, `${label} interpolation`);
      assert.ok(closeNumbers(image.mean, c.mean) && closeNumbers(image.std, c.std), `${label} mean/std`);
      assert.equal(ours.numClasses, c.numClasses, `${label} classes`);
      assert.equal(ours.firstConv, c.firstConv, `${label} first conv`);
      assert.deepEqual(ours.classifier, c.classifier, `${label} classifier`);
      assert.equal(ours.license, c.license, `${label} license`);
    }
  }
}
