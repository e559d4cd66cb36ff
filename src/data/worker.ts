/**
 * A DataLoader worker thread: loads the pipeline its spec names, then builds each requested
 * batch exactly as the main thread would (buildBatch) and sends the pixels back transferred.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { buildBatch, loadPipeline, type PipelineSpec } from './loader.ts';

const { spec, seed } = workerData as { spec: PipelineSpec; seed: number };
const pipeline = loadPipeline(spec);
pipeline.catch(() => undefined); // a failed load is reported with each request below

parentPort!.on('message', async (req: { id: number; epoch: number; indices: number[] }) => {
  try {
    const batch = await buildBatch(await pipeline, seed, req.epoch, req.indices);
    if (!batch) {
      parentPort!.postMessage({ id: req.id });
      return;
    }
    const images = batch.images.contiguous().toArray() as Float32Array;
    const labels = batch.labels.toArray() as BigInt64Array;
    parentPort!.postMessage({ id: req.id, images, shape: [...batch.images.shape], labels, indices: [...batch.indices], ...(batch.texts ? { texts: [...batch.texts] } : {}) }, [images.buffer as ArrayBuffer, labels.buffer as ArrayBuffer]);
  } catch (e) {
    const err = e as Error;
    parentPort!.postMessage({ id: req.id, error: { name: err.name ?? 'Error', message: err.message ?? String(e) } });
  }
});
