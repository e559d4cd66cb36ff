/**
 * `tsvision demo`: the engine end to end with nothing to download. Draws a synthetic two-class
 * image set (a filled blob or a ring, 1×16×16, at random centres, with noise) from a seeded
 * Generator, trains a tiny conv net (conv3×3 → relu → maxpool2 → linear) with plain SGD written
 * in tensor ops, and reports loss, accuracy and time.
 */
import * as T from '../tensor/index.ts';

/** Settings of the demo run. */
export interface DemoOptions {
  steps: number;
  seed: number;
  /** Receives each line of the report. */
  print: (line: string) => void;
}

/** What the demo measured. */
export interface DemoResult {
  finalLoss: number;
  trainAccuracy: number;
  testAccuracy: number;
  seconds: number;
}

const SIZE = 16;
const CHANNELS = 8;
const CLASSES = 2;
const TRAIN = 512;
const TEST = 256;
const BATCH = 64;
const LR = 0.2;
const NOISE = 0.15;
const LOG_EVERY = 10;

interface Dataset {
  /** [n, 1, SIZE, SIZE] float32 */
  images: T.Tensor;
  /** [n] int64, 0 = blob, 1 = ring */
  labels: T.Tensor;
}

interface Params {
  convWeight: T.Tensor;
  convBias: T.Tensor;
  fcWeight: T.Tensor;
  fcBias: T.Tensor;
}

function makeDataset(n: number, generator: T.Generator): Dataset {
  const labels = T.randint(0, CLASSES, [n], { generator });
  // Centres in the middle half of the image, so both shapes stay mostly in frame.
  const centres = T.rand([n, 2, 1, 1], { generator }).mul(SIZE / 2).add(SIZE / 4);
  const coords = T.arange(0, SIZE, 1, { dtype: 'float32' });
  const dy = coords.reshape(1, 1, SIZE, 1).sub(centres.narrow(1, 0, 1));
  const dx = coords.reshape(1, 1, 1, SIZE).sub(centres.narrow(1, 1, 1));
  const r2 = dy.square().add(dx.square()); // (n, 1, SIZE, SIZE)
  const blob = r2.mul(-1 / (2 * 2.5 ** 2)).exp();
  const ring = r2.sqrt().sub(4.5).square().mul(-1 / (2 * 0.8 ** 2)).exp();
  const isRing = labels.to('float32').reshape(n, 1, 1, 1);
  const noise = T.randn([n, 1, SIZE, SIZE], { generator }).mul(NOISE);
  return { images: blob.add(ring.sub(blob).mul(isRing)).add(noise), labels };
}

// He-normal weights for the relu layer, LeCun-normal for the classifier, zero biases.
function initParams(generator: T.Generator): Params {
  const features = CHANNELS * (SIZE / 2) ** 2;
  const normal = (shape: number[], std: number) => T.randn(shape, { generator }).mul(std).requiresGrad_();
  return {
    convWeight: normal([CHANNELS, 1, 3, 3], Math.sqrt(2 / 9)),
    convBias: T.zeros([CHANNELS], { requiresGrad: true }),
    fcWeight: normal([CLASSES, features], Math.sqrt(1 / features)),
    fcBias: T.zeros([CLASSES], { requiresGrad: true }),
  };
}

function forward(p: Params, images: T.Tensor): T.Tensor {
  const h = T.conv2d(images, p.convWeight, p.convBias, { padding: 1 }); // (n, CHANNELS, SIZE, SIZE)
  const pooled = T.maxPool2d(T.relu(h), { kernelSize: 2 }); // (n, CHANNELS, SIZE/2, SIZE/2)
  return T.linear(pooled.flatten(1), p.fcWeight, p.fcBias); // (n, CLASSES)
}

function crossEntropy(logits: T.Tensor, labels: T.Tensor): T.Tensor {
  const oneHot = labels.reshape(-1, 1).eq(T.arange(CLASSES).reshape(1, CLASSES)).to('float32');
  return T.logSoftmax(logits, 1).mul(oneHot).sum(1).mean().neg();
}

function sgdStep(p: Params): void {
  T.noGrad(() => {
    for (const param of Object.values(p)) {
      param.copy_(param.sub(param.grad!, LR));
      param.grad = null;
    }
  });
}

function accuracy(p: Params, data: Dataset): number {
  return T.noGrad(() => forward(p, data.images).argmax(1).eq(data.labels).to('float32').mean().item());
}

/** Runs the demo and prints its report through options.print. */
export function runDemo(options: DemoOptions): DemoResult {
  const { steps, seed, print } = options;
  const start = performance.now();
  const generator = new T.Generator(seed);
  const train = makeDataset(TRAIN, generator);
  const test = makeDataset(TEST, generator);
  const params = initParams(generator);
  print(`tsvision demo: blob vs ring, 1x${SIZE}x${SIZE} images, ${TRAIN} train / ${TEST} test (seed ${seed})`);
  print(`model: conv3x3(${CHANNELS}) -> relu -> maxpool2 -> linear(${CLASSES}); SGD lr ${LR}, batch ${BATCH}, ${steps} steps`);

  let loss = NaN;
  for (let step = 1; step <= steps; ++step) {
    const first = ((step - 1) * BATCH) % TRAIN;
    const images = train.images.narrow(0, first, BATCH);
    const labels = train.labels.narrow(0, first, BATCH);
    const batchLoss = crossEntropy(forward(params, images), labels);
    batchLoss.backward();
    sgdStep(params);
    loss = batchLoss.item();
    if (step % LOG_EVERY === 0 || step === steps) print(`step ${String(step).padStart(4)}  loss ${loss.toFixed(4)}`);
  }

  const trainAccuracy = accuracy(params, train);
  const testAccuracy = accuracy(params, test);
  const seconds = (performance.now() - start) / 1000;
  print(`final: train accuracy ${trainAccuracy.toFixed(3)}, test accuracy ${testAccuracy.toFixed(3)}`);
  print(`time: ${seconds.toFixed(2)} s (data, training and evaluation)`);
  return { finalLoss: loss, trainAccuracy, testAccuracy, seconds };
}
