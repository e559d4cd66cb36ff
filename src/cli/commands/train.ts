/** `tsvision train`: train or fine-tune a classifier; checkpoints, metrics and curves go to --output. */
import { TsvisionError } from '../../errors.ts';
import { defineCommand, UsageError } from '../options.ts';
import { dataSpecProblem } from '../paths.ts';

/** The train command. */
export const trainCommand = defineCommand({
  summary: 'train or fine-tune a classifier; checkpoints, metrics.jsonl/csv and curves.png go to --output',
  options: {
    model: { type: 'string', required: true, placeholder: 'name', help: 'registry model (resnet18, vit_tiny_patch16_224, ...)' },
    data: {
      type: 'string', required: true, placeholder: 'spec', check: dataSpecProblem,
      help: 'shapes | shapes:N | shapes:classes=N,first=K,size=S,train=L,val=L | cifar10:DIR | cifar100:DIR | DIR (ImageFolder: DIR/train, DIR/val)',
    },
    output: { type: 'string', required: true, placeholder: 'dir', help: 'checkpoints and logs' },
    pretrained: { type: 'string', placeholder: 'w', help: 'weights to fine-tune (the head is replaced when the class count differs)' },
    epochs: { type: 'integer', min: 1, placeholder: 'n', help: 'passes over the training set', defaultHelp: '10' },
    'batch-size': { type: 'integer', min: 1, placeholder: 'n', help: 'images per update', defaultHelp: '64' },
    lr: { type: 'number', min: 0, placeholder: 'x', help: 'peak learning rate', defaultHelp: '2.5e-4 x batch/64' },
    'weight-decay': { type: 'number', min: 0, placeholder: 'x', help: 'decoupled weight decay', defaultHelp: '0.05' },
    opt: { type: 'choice', choices: ['adamw', 'adam', 'sgd', 'lamb', 'adafactor'], placeholder: 'name', help: 'optimizer', defaultHelp: 'adamw' },
    sched: { type: 'choice', choices: ['cosine', 'linear', 'poly', 'step', 'multistep'], placeholder: 'name', help: 'LR schedule, stepped per update', defaultHelp: 'cosine' },
    'warmup-epochs': { type: 'number', min: 0, placeholder: 'x', help: 'linear LR warm-up', defaultHelp: 'min(5, epochs/10)' },
    'min-lr': { type: 'number', min: 0, placeholder: 'x', help: 'LR at the end of the schedule', defaultHelp: 'lr/100' },
    mixup: { type: 'number', min: 0, placeholder: 'a', help: 'Mixup alpha', defaultHelp: 'off' },
    cutmix: { type: 'number', min: 0, placeholder: 'a', help: 'CutMix alpha', defaultHelp: 'off' },
    smoothing: { type: 'number', min: 0, max: 1, placeholder: 'x', help: 'label smoothing', defaultHelp: '0.1' },
    'drop-path': { type: 'number', min: 0, max: 1, placeholder: 'x', help: 'stochastic depth rate' },
    amp: { type: 'choice', choices: ['bf16', 'bfloat16', 'none'], placeholder: 'type', help: 'mixed precision: bf16 computes in bfloat16 with f32 master weights', defaultHelp: 'none' },
    accum: { type: 'integer', min: 1, placeholder: 'n', help: 'gradient accumulation steps' },
    'clip-grad': { type: 'number', min: 0, placeholder: 'x', help: 'max gradient L2 norm' },
    teacher: { type: 'string', placeholder: 'name+w', help: 'distil from a teacher (DeiT): its model name and weights joined by +' },
    'distill-type': { type: 'choice', choices: ['hard', 'soft'], placeholder: 'type', help: 'distillation loss', defaultHelp: 'hard' },
    'linear-probe': { type: 'boolean', help: 'train a fresh head only' },
    'few-shot': { type: 'integer', min: 1, placeholder: 'k', help: 'k training images per class' },
    workers: { type: 'integer', min: 0, placeholder: 'n', help: 'data loader worker threads', defaultHelp: '0: batches built on the main thread' },
    'model-ema': { type: 'boolean', help: 'keep an EMA of the weights, evaluated each epoch (EMA top-1 in the logs)' },
    'model-ema-decay': { type: 'number', min: 0, max: 1, placeholder: 'x', help: 'EMA decay, with --model-ema', defaultHelp: '0.9998' },
    'model-ema-warmup': { type: 'boolean', help: 'ramp the EMA decay up as timm does, with --model-ema' },
    resume: { type: 'boolean', help: 'continue from the newest checkpoint in --output' },
    'checkpoint-every': { type: 'integer', min: 1, placeholder: 'n', help: 'also checkpoint every n updates' },
    'skip-nonfinite': { type: 'boolean', help: 'skip NaN/Inf updates instead of stopping' },
    'skip-corrupt': { type: 'boolean', help: 'report and leave out image files that cannot be decoded (default: stop naming the file)' },
    seed: { type: 'integer', min: 0, placeholder: 'n', help: 'random seed' },
    'img-size': { type: 'integer', min: 8, placeholder: 'n', help: 'input side', defaultHelp: "the data's or the model's" },
    'max-steps': { type: 'integer', min: 1, placeholder: 'n', help: 'stop after n updates' },
  },
  async run(v) {
    if ((v['model-ema-decay'] !== undefined || v['model-ema-warmup']) && !v['model-ema']) {
      throw new UsageError('--model-ema-decay and --model-ema-warmup need --model-ema', 'train');
    }
    const { runTraining } = await import('../../tasks/train.ts');
    const result = await runTraining({
      model: v.model,
      data: v.data,
      output: v.output,
      pretrained: v.pretrained,
      epochs: v.epochs,
      batchSize: v['batch-size'],
      lr: v.lr,
      weightDecay: v['weight-decay'],
      opt: v.opt,
      sched: v.sched,
      warmupEpochs: v['warmup-epochs'],
      minLr: v['min-lr'],
      mixup: v.mixup,
      cutmix: v.cutmix,
      smoothing: v.smoothing,
      dropPath: v['drop-path'],
      amp: v.amp === 'bf16' || v.amp === 'bfloat16' ? 'bf16' : null,
      accum: v.accum,
      clipGrad: v['clip-grad'],
      teacher: v.teacher,
      distillType: v['distill-type'],
      linearProbe: v['linear-probe'],
      fewShot: v['few-shot'],
      workers: v.workers,
      modelEma: v['model-ema'],
      modelEmaDecay: v['model-ema-decay'],
      modelEmaWarmup: v['model-ema-warmup'],
      resume: v.resume,
      checkpointEvery: v['checkpoint-every'],
      onNonFinite: v['skip-nonfinite'] ? 'skip' : 'stop',
      onCorrupt: v['skip-corrupt'] ? 'skip' : 'fail',
      seed: v.seed,
      imgSize: v['img-size'],
      maxSteps: v['max-steps'],
    });
    throwIfInterrupted(result);
    const last = result.history.at(-1);
    const metrics = last && (last.top1 === null ? '' : `, top-1 ${(last.top1 * 100).toFixed(2)}%, top-5 ${(last.top5! * 100).toFixed(2)}%`);
    console.log(last ? `done: ${result.stepLosses.length} updates, train loss ${last.trainLoss.toFixed(4)}${metrics}` : `stopped after ${result.stepLosses.length} updates`);
  },
});

/** A run stopped by Ctrl-C ends the command with an error naming the checkpoint to resume from. */
export function throwIfInterrupted(result: { interrupted: boolean; lastCheckpoint: string | null }): void {
  if (result.interrupted) {
    throw new TsvisionError('E_INTERRUPTED', `interrupted; ${result.lastCheckpoint ? `saved ${result.lastCheckpoint}; continue with --resume` : 'no checkpoint was written'}`);
  }
}
