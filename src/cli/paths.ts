/**
 * Checks of the paths a command line names, run while its options are parsed so that a typo
 * is reported before a model is built or a forward pass runs.
 */
import { existsSync, statSync } from 'node:fs';

/** Why `file` cannot be read as a file, or null when it can. */
export function inputFileProblem(file: string): string | null {
  if (!existsSync(file)) return `no such file '${file}'`;
  return statSync(file).isFile() ? null : `'${file}' is not a file`;
}

/**
 * Why a `--data` spec names a path that does not exist, or null. The spec grammar itself
 * (shapes settings, what a folder must hold) is openData's to check.
 */
export function dataSpecProblem(spec: string): string | null {
  if (/^shapes(:|$)/.test(spec)) return null;
  const path = /^cifar(?:10|100):(.+)$/.exec(spec)?.[1] ?? spec;
  if (existsSync(path)) return null;
  return `no such file or folder '${path}' (expected 'shapes', 'shapes:N', 'cifar10:DIR', 'cifar100:DIR' or an image folder)`;
}
