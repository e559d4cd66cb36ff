/** `tsvision train-clip --model NAME --data PAIRS --output DIR`: contrastive (CLIP) training on image–caption pairs. */
import { defineCommand } from '../options.ts';
import { inputFileProblem } from '../paths.ts';
import { throwIfInterrupted } from './train.ts';

/** The train-clip command. */
export const trainClipCommand = defineCommand({
  summary: 'train or fine-tune a CLIP on image–caption pairs (contrastive); checkpoints, metrics and curves.png go to --output',
  description: [
    'PAIRS: shapes-captions[:train=N,val=N,size=S,heldout=K,zeroshot=N] (built in: heldout=K colour–shape pairs never appear in training captions and are the zero-shot classes), a captions table (.csv, .tsv or .jsonl with an image-path and a caption column), or WebDataset shards (a .tar, or a folder of them) with an image and a .txt caption per sample.',
    'After each epoch: zero-shot top-1/top-5 on the held-out classes (shapes-captions) and text→image recall@1/5/10 on held-out pairs (shapes-captions\' val split, or --val-data).',
    'Gradient accumulation (--accum) keeps the full-batch contrastive loss, as open_clip\'s --accum-freq: embeddings of the whole batch are cached, and each micro-batch is run again with gradients. logit_scale is clamped at ln 100 after every update.',
  ],
  options: {
    model: { type: 'string', required: true, placeholder: 'name', help: 'CLIP registry model (clip_vit_tiny_patch8_48 for small images from scratch; tsvision models clip)' },
    data: { type: 'string', required: true, placeholder: 'pairs', help: 'shapes-captions[:...] | captions .csv/.tsv/.jsonl | WebDataset .tar or folder' },
    output: { type: 'string', required: true, placeholder: 'dir', help: 'checkpoints and logs' },
    'val-data': { type: 'string', placeholder: 'file', help: 'captions table of held-out pairs for the recall evaluation', check: inputFileProblem },
    pretrained: { type: 'string', placeholder: 'w', help: 'weights to fine-tune from (.safetensors, hub folder or id, train output)' },
    vocab: { type: 'string', placeholder: 'file', help: 'tokenizer vocabulary file or folder', defaultHelp: "the model's", check: inputFileProblem },
    epochs: { type: 'integer', min: 1, placeholder: 'n', help: 'passes over the training pairs', defaultHelp: '10' },
    'batch-size': { type: 'integer', min: 2, placeholder: 'n', help: 'pairs per micro-batch (an update sees batch × accum pairs)', defaultHelp: '128' },
    accum: { type: 'integer', min: 1, placeholder: 'n', help: 'micro-batches per update (full-batch loss, cached embeddings)' },
    lr: { type: 'number', min: 0, placeholder: 'x', help: 'peak learning rate (AdamW, betas 0.9/0.98, eps 1e-6)', defaultHelp: '5e-4' },
    'weight-decay': { type: 'number', min: 0, placeholder: 'x', help: 'decoupled weight decay (not on gains, biases, logit_scale)', defaultHelp: '0.1' },
    'warmup-epochs': { type: 'number', min: 0, placeholder: 'x', help: 'linear LR warm-up', defaultHelp: 'min(1, epochs/10)' },
    'min-lr': { type: 'number', min: 0, placeholder: 'x', help: 'LR at the end of the cosine schedule', defaultHelp: '0' },
    'clip-grad': { type: 'number', min: 0, placeholder: 'x', help: 'max gradient L2 norm' },
    amp: { type: 'choice', choices: ['bf16', 'bfloat16', 'none'], placeholder: 'type', help: 'mixed precision: bf16 computes in bfloat16 with f32 master weights', defaultHelp: 'none' },
    template: { type: 'repeated', placeholder: 'text', help: 'zero-shot prompt template with {} (default: four that no caption uses)' },
    resume: { type: 'boolean', help: 'continue from the newest checkpoint in --output' },
    'checkpoint-every': { type: 'integer', min: 1, placeholder: 'n', help: 'also checkpoint every n updates' },
    'skip-nonfinite': { type: 'boolean', help: 'skip NaN/Inf updates instead of stopping' },
    'skip-corrupt': { type: 'boolean', help: 'report and leave out images that cannot be decoded' },
    seed: { type: 'integer', min: 0, placeholder: 'n', help: 'random seed' },
    'max-steps': { type: 'integer', min: 1, placeholder: 'n', help: 'stop after n updates' },
  },
  async run(v) {
    const { runClipTraining } = await import('../../tasks/train-clip.ts');
    const result = await runClipTraining({
      model: v.model,
      data: v.data,
      output: v.output,
      valData: v['val-data'],
      pretrained: v.pretrained,
      vocab: v.vocab,
      epochs: v.epochs,
      batchSize: v['batch-size'],
      accum: v.accum,
      lr: v.lr,
      weightDecay: v['weight-decay'],
      warmupEpochs: v['warmup-epochs'],
      minLr: v['min-lr'],
      clipGrad: v['clip-grad'] ?? null,
      amp: v.amp === 'bf16' || v.amp === 'bfloat16' ? 'bf16' : null,
      templates: v.template.length > 0 ? v.template : undefined,
      resume: v.resume,
      checkpointEvery: v['checkpoint-every'],
      onNonFinite: v['skip-nonfinite'] ? 'skip' : 'stop',
      onCorrupt: v['skip-corrupt'] ? 'skip' : 'fail',
      seed: v.seed,
      maxSteps: v['max-steps'],
    });
    throwIfInterrupted(result);
    const last = result.history.at(-1);
    const pct = (x: number | null | undefined) => (x == null ? '-' : `${(x * 100).toFixed(2)}%`);
    console.log(last
      ? `done: ${result.stepLosses.length} updates, train loss ${last.trainLoss.toFixed(4)}, zero-shot top-1 ${pct(last.top1)}, text→image R@5 ${pct(last.recallAt5)}`
      : `stopped after ${result.stepLosses.length} updates`);
  },
});
