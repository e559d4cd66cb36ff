/**
 * sharp (libvips), loaded on first use. Importing it was measured to slow tensor kernels in the
 * same process by 15–25% (ViT-B/16 forward at batch 1: minor page faults per forward rise from ~1
 * to ~350, cause inside sharp's initialisation not pinned down), so a process that never decodes
 * or writes an image never loads it.
 */
import type { default as Sharp } from 'sharp';

let loading: Promise<typeof Sharp> | undefined;

/** The sharp module's default export, imported once on the first call. */
export function loadSharp(): Promise<typeof Sharp> {
  loading ??= import('sharp').then((m) => m.default);
  return loading;
}
