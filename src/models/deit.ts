/**
 * DeiT — "Training data-efficient image transformers & distillation through attention",
 * Touvron et al., ICML 2021. Reference code: timm `models/deit.py` (VisionTransformerDistilled)
 * and facebookresearch/deit `models.py`.
 *
 * The plain DeiTs are ViTs (src/models/vit.ts) with DeiT's weights and preprocessing. The
 * distilled ones add a distillation token after the class token (`dist_token` [1, 1, D],
 * `pos_embed` [1, N + 2, D]) and a second head `head_dist` on it; inference averages the two
 * heads. Checkpoint layout: timm's names (the official `.pth` files wrap the same names in
 * {"model": …}).
 */
import { ArgumentError } from '../errors.ts';
import { Identity, Linear } from '../nn/layers/linear.ts';
import type { Parameter } from '../nn/parameter.ts';
import { truncNormal02_, zeros_ } from '../nn/init.ts';
import { noGrad } from '../tensor/autograd.ts';
import { empty } from '../tensor/creation.ts';
import { add, mul } from '../tensor/ops/elementwise.ts';
import { select } from '../tensor/ops/shape.ts';
import type { Tensor } from '../tensor/tensor.ts';
import { IMAGENET_MEAN, IMAGENET_STD } from './constants.ts';
import type { ModelEntry, PretrainedCfg } from './contract.ts';
import { IMAGE_CLASSIFICATION } from './image-classifier.ts';
import { resamplePosEmbedInStateDict, VisionTransformer, vitCfg, type VitConfig, type VitOptions } from './vit.ts';

/**
 * timm's VisionTransformerDistilled: tokens [cls, dist, patches…]; `head` reads the class
 * token and `head_dist` the distillation token.
 *
 * `forward` returns the average of the two heads (timm's output in eval, and in training
 * unless distilled training is on). With `distilledTraining` set and in training mode,
 * `forwardTrain` returns both heads [cls logits, dist logits] for a distillation loss, as
 * timm's forward does then.
 */
export class VisionTransformerDistilled extends VisionTransformer {
  readonly distToken: Parameter;
  headDist: Linear | null;
  /** Training returns both heads from forwardTrain (timm's distilled_training). */
  distilledTraining = false;

  constructor(config: VitConfig, options: VitOptions = {}) {
    super(config, options);
    if (this.globalPool !== 'token' || !this.clsToken) throw new ArgumentError(`VisionTransformerDistilled: needs the class token and globalPool 'token', got '${this.globalPool}'`);
    this.numPrefixTokens = 2;
    this.distToken = this.param('dist_token', empty([1, 1, this.embedDim]));
    this.posEmbed = this.param('pos_embed', empty([1, this.patchEmbed.numPatches + 2, this.embedDim]));
    this.headDist = this.numClasses > 0 ? this.module('head_dist', new Linear(this.embedDim, this.numClasses)) : null;
    noGrad(() => {
      truncNormal02_(this.distToken);
      truncNormal02_(this.posEmbed);
      if (this.headDist) {
        truncNormal02_(this.headDist.weight);
        zeros_(this.headDist.bias!);
      }
    });
  }

  /** timm's set_distilled_training. */
  setDistilledTraining(enable = true): void {
    this.distilledTraining = enable;
  }

  protected override prefixTokens(): Tensor[] {
    return [this.clsToken!, this.distToken];
  }

  /**
   * Both heads: [head(class token), head_dist(distillation token)], each [B, numClasses] (the
   * tokens themselves without heads). As timm, no head dropout here.
   */
  forwardHeads(x: Tensor): [Tensor, Tensor] {
    const cls = select(x, 1, 0); // (B, D)
    const dist = select(x, 1, 1); // (B, D)
    return [this.head ? this.head.forward(cls) : cls, this.headDist ? this.headDist.forward(dist) : dist];
  }

  /** The mean of the two heads; with preLogits, the mean of the two tokens. */
  override forwardHead(x: Tensor, options: { preLogits?: boolean } = {}): Tensor {
    if (options.preLogits) return mul(add(select(x, 1, 0), select(x, 1, 1)), 0.5);
    const [cls, dist] = this.forwardHeads(x);
    return mul(add(cls, dist), 0.5);
  }

  /** timm's forward: both heads when distilledTraining is on in training mode, otherwise their mean. */
  forwardTrain(x: Tensor): Tensor | [Tensor, Tensor] {
    const features = this.forwardFeatures(x);
    return this.distilledTraining && this.training ? this.forwardHeads(features) : this.forwardHead(features);
  }

  override resetClassifier(numClasses: number): void {
    super.resetClassifier(numClasses);
    this.headDist = numClasses > 0 ? new Linear(this.embedDim, numClasses) : null;
    this.module('head_dist', this.headDist ?? new Identity());
  }
}

/** A DeiT variant: a ViT config, distilled or not. */
export interface DeitConfig extends VitConfig {
  distilled?: boolean;
}

const TINY = { patchSize: 16, embedDim: 192, depth: 12, numHeads: 3 };
const SMALL = { patchSize: 16, embedDim: 384, depth: 12, numHeads: 6 };
const BASE = { patchSize: 16, embedDim: 768, depth: 12, numHeads: 12 };

/** timm's DeiT variants (deit.py). */
export const DEIT_VARIANTS = {
  deit_tiny_patch16_224: TINY,
  deit_small_patch16_224: SMALL,
  deit_base_patch16_224: BASE,
  deit_base_patch16_384: { ...BASE, imgSize: 384 },
  deit_tiny_distilled_patch16_224: { ...TINY, distilled: true },
  deit_small_distilled_patch16_224: { ...SMALL, distilled: true },
  deit_base_distilled_patch16_224: { ...BASE, distilled: true },
  deit_base_distilled_patch16_384: { ...BASE, imgSize: 384, distilled: true },
} satisfies Record<string, DeitConfig>;

// timm's DeiT cfg: the ViT one with ImageNet mean/std (bicubic, crop 0.9 at 224, 1.0 at 384).
function deitCfg(name: string, config: DeitConfig): PretrainedCfg {
  return vitCfg(`timm/${name}.fb_in1k`, config.imgSize ?? 224, {
    image: { mean: IMAGENET_MEAN, std: IMAGENET_STD }, classifier: config.distilled ? ['head', 'head_dist'] : 'head',
  });
}

/** Parameter counts with the default head, as timm/torchvision report them (checked by test/models/registry.test.ts). */
const DEIT_PARAM_COUNTS: Record<string, number> = {
  deit_base_distilled_patch16_224: 87_338_192,
  deit_base_distilled_patch16_384: 87_630_032,
  deit_base_patch16_224: 86_567_656,
  deit_base_patch16_384: 86_859_496,
  deit_small_distilled_patch16_224: 22_436_432,
  deit_small_patch16_224: 22_050_664,
  deit_tiny_distilled_patch16_224: 5_910_800,
  deit_tiny_patch16_224: 5_717_416,
};

/** Registry entries of the family. */
export const DEIT_MODELS: ModelEntry<VisionTransformer>[] = Object.entries(DEIT_VARIANTS).map(([name, config]: [string, DeitConfig]) => ({
  name,
  family: 'deit',
  paramCount: DEIT_PARAM_COUNTS[name],
  create: (options) => (config.distilled ? new VisionTransformerDistilled(config, options) : new VisionTransformer(config, options)),
  pretrained: { fb_in1k: deitCfg(name, config) },
  filterCheckpoint: resamplePosEmbedInStateDict,
  contract: IMAGE_CLASSIFICATION,
}));
