/**
 * Transformer building blocks shared by the model families (timm `layers/` and the ViT Block),
 * with timm's parameter names so checkpoints load unchanged.
 */
export { Mlp, type MlpOptions } from './mlp.ts';
export { Attention, type AttentionOptions } from './attention.ts';
export { LayerScale } from './layer-scale.ts';
export { PatchEmbed, type PatchEmbedOptions, type PatchEmbedFormat, type TokenEmbed, type TokenEmbedArgs } from './patch-embed.ts';
export { resampleAbsPosEmbed, type ResamplePosEmbedOptions } from './pos-embed.ts';
export { Block, type BlockOptions } from './transformer.ts';
export { residualSkip, type Skip } from './residual.ts';
