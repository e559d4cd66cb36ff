/**
 * A child process for the index kill test: indexes DIR into INDEX with the small seeded CLIP,
 * printing one JSON line per committed batch ({"done": n}) and the run report at the end.
 * Usage: node --import tsx test/helpers/index-child.ts DIR INDEX BATCH
 */
import { indexImages } from '../../src/tasks/image-index.ts';
import { smallClip } from './small-clip.ts';

const [dir, index, batch] = process.argv.slice(2);
const report = await indexImages(smallClip(), dir, index, {
  batchSize: Number(batch),
  onProgress: (p) => process.stdout.write(`${JSON.stringify({ done: p.done })}\n`),
});
process.stdout.write(`${JSON.stringify({ report })}\n`);
