/**
 * onnxruntime-node as a benchmark peer: loads it (reporting why when it cannot), and runs
 * single-node graphs written by ./onnx.ts to a temporary folder (bench/ops.ts) or whole-model
 * graphs exported from timm (bench/models.ts), on the CPU execution provider with as many
 * intra-op threads as tsvision's OpenMP uses.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import type * as Ort from 'onnxruntime-node';
import { singleNodeModel, type OnnxSingleNodeGraph } from './onnx.ts';

/**
 * Session options of every peer measurement: the default CPU execution provider, all graph
 * optimizations, `threads` intra-op threads (as many as tsvision's OpenMP uses), sequential.
 */
export function sessionOptions(threads: number): Ort.InferenceSession.SessionOptions {
  return { executionProviders: ['cpu'], intraOpNumThreads: threads, interOpNumThreads: 1, executionMode: 'sequential', graphOptimizationLevel: 'all' };
}

/** A loaded onnxruntime-node, or the reason it could not be loaded. */
export type OrtPeer = { ok: true; ort: typeof Ort; version: string } | { ok: false; reason: string };

/** Imports onnxruntime-node; on failure returns the loader's message instead of throwing. */
export async function loadOrt(): Promise<OrtPeer> {
  try {
    const ort = (await import('onnxruntime-node')) as typeof Ort;
    const pkg = createRequire(import.meta.url)('onnxruntime-node/package.json') as { version: string };
    return { ok: true, ort, version: pkg.version };
  } catch (e) {
    return { ok: false, reason: e instanceof Error ? e.message.split('\n')[0] : String(e) };
  }
}

/** Single-node ONNX sessions, their model files kept in one temporary folder until close(). */
export class OrtGraphs {
  private readonly dir = mkdtempSync(path.join(os.tmpdir(), 'tsvision-bench-onnx-'));
  private count = 0;

  constructor(
    private readonly ort: typeof Ort,
    private readonly threads: number,
  ) {}

  /** Writes the graph to a .onnx file and opens a session on it. */
  async session(graph: OnnxSingleNodeGraph): Promise<Ort.InferenceSession> {
    const file = path.join(this.dir, `${this.count++}-${graph.opType}.onnx`);
    writeFileSync(file, singleNodeModel(graph));
    return this.ort.InferenceSession.create(file, sessionOptions(this.threads));
  }

  /** A float32 input tensor. */
  tensor(data: Float32Array, shape: readonly number[]): Ort.Tensor {
    return new this.ort.Tensor('float32', data, [...shape]);
  }

  /** Deletes the model files. */
  close(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}
