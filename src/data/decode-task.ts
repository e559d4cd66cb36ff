/**
 * The work one DecodePool thread does per file: read it, hash its bytes (SHA-256) and, unless the
 * hash is the one the caller already holds, decode and preprocess it into the model's input.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { move, transferableSymbol, valueSymbol } from 'piscina';
import { preprocess, type EvalConfig } from './transforms.ts';

/** One file to decode. */
export interface DecodeRequest {
  path: string;
  cfg: EvalConfig;
  /** The content hash already indexed for this path: an equal hash skips the decode. */
  knownHash?: string;
}

/** What came of one file: its pixels, the news that its content is unchanged, or why it failed. */
export type DecodeReply =
  | { kind: 'pixels'; hash: string; pixels: Float32Array; shape: number[] }
  | { kind: 'unchanged'; hash: string }
  | { kind: 'failed'; name: string; message: string };

/** Piscina task: a DecodeRequest → a DecodeReply, the pixels transferred rather than copied. */
export default async function decodeFile(request: DecodeRequest): Promise<unknown> {
  let bytes: Buffer;
  try {
    bytes = await readFile(request.path);
  } catch (e) {
    return failure(e);
  }
  const hash = createHash('sha256').update(bytes).digest('hex');
  if (hash === request.knownHash) return { kind: 'unchanged', hash } satisfies DecodeReply;
  try {
    const input = await preprocess(bytes, request.cfg, { name: request.path });
    const pixels = input.contiguous().toArray() as Float32Array;
    const reply: DecodeReply = { kind: 'pixels', hash, pixels, shape: [...input.shape] };
    return move({ [transferableSymbol]: [pixels.buffer], [valueSymbol]: reply } as never);
  } catch (e) {
    return failure(e);
  }
}

function failure(e: unknown): DecodeReply {
  const err = e as Error;
  return { kind: 'failed', name: err?.name ?? 'Error', message: err?.message ?? String(e) };
}
