/** `tsvision index DIR --out INDEX`: embeds every image under a folder into a searchable index (incrementally). */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import cliProgress from 'cli-progress';
import { formatDuration } from '../../io/progress.ts';
import { defineCommand, UsageError } from '../options.ts';
import { loadCliModel, MODEL_OPTIONS } from './model-options.ts';

/** The index command. */
export const indexCommand = defineCommand({
  summary: 'embed every image under a folder into an image index (LanceDB) for tsvision search',
  description: [
    'Decoding and preprocessing run in worker threads beside the model. A re-run embeds only new or changed files and drops deleted ones; a run that is interrupted (Ctrl-C, SIGKILL) and re-run gives the same index as one uninterrupted run.',
    'Files that cannot be decoded are reported with their path and left out (the next run tries them again).',
  ],
  positionals: { name: 'DIR', help: 'folder of images (JPEG, PNG, WebP, GIF), searched recursively' },
  options: {
    ...MODEL_OPTIONS,
    model: { type: 'string', default: 'clip_vit_base_patch32', placeholder: 'name', help: 'CLIP registry model (tsvision models clip lists them)' },
    out: { type: 'string', required: true, placeholder: 'index', help: 'index folder (created, or brought up to date)' },
    'batch-size': { type: 'integer', min: 1, default: 32, placeholder: 'n', help: 'images per forward pass and per commit' },
    threads: { type: 'integer', min: 1, placeholder: 'n', help: 'decode threads', defaultHelp: 'cores - 1, at most 4' },
    json: { type: 'boolean', help: 'print the run report as JSON' },
  },
  async run(values, positionals) {
    const [dir, ...extra] = positionals;
    if (dir === undefined || extra.length > 0) throw new UsageError(`give exactly one DIR, got ${positionals.length}`, 'index');
    const model = await loadCliModel(values);
    const { asClipModel } = await import('../../tasks/zero-shot.ts');
    const { indexImages } = await import('../../tasks/image-index.ts');
    const weights = values.weights && existsSync(values.weights) ? resolve(values.weights) : (values.weights ?? null);
    const bar = new cliProgress.SingleBar(
      { stream: process.stderr, format: 'index {bar} {value}/{total} images | {rate} img/s | ETA {left}', hideCursor: true, clearOnComplete: true },
      cliProgress.Presets.shades_classic,
    );
    let started = false;
    const report = await indexImages(asClipModel(model, 'index'), dir, values.out, {
      weights,
      batchSize: values['batch-size'],
      threads: values.threads,
      onProgress: (p) => {
        if (!started) bar.start(p.total, 0, { rate: '-', left: '-' });
        started = true;
        bar.update(p.done, { rate: p.rate.toFixed(1), left: formatDuration(p.eta) });
      },
      onSkip: (path, reason) => console.error(`tsvision: skipped ${path}: ${reason}`),
    }).finally(() => started && bar.stop());
    if (values.json) {
      console.log(JSON.stringify(report));
      return;
    }
    console.log(
      `${values.out}: ${report.indexed} images indexed (${report.embedded} embedded, ${report.unchanged + report.touched} unchanged, ${report.removed} removed, ${report.failed.length} skipped) in ${formatDuration(report.seconds)}` +
        (report.embedded > 0 ? `, ${report.imagesPerSecond.toFixed(1)} img/s` : ''),
    );
  },
});
