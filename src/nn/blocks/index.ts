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
export { ClassAttn, ClassAttentionBlock, type ClassAttnOptions, type ClassAttentionBlockOptions } from './class-attention.ts';
export { PositionalEncodingFourier, fourierAxisFeatures, type FourierPosEmbedOptions } from './fourier-pos-embed.ts';
export { XCA, XCA_NORM_EPS, type XcaOptions } from './xca.ts';
export { LPI, type LpiOptions } from './lpi.ts';
export { ConvActNorm, convActNorm } from './conv-act-norm.ts';
export { windowPartition, windowReverse, windowLayout, partitionWindows, reverseWindows, shiftedWindowMask, type WindowLayout, type ShiftOrder } from './window.ts';
export { relativePositionIndex, relativePositionBias, relativePositionTableSize, resizeRelativePositionTable, type ResizeRelativePositionOptions } from './relative-position.ts';
export { WindowAttention, type WindowAttentionOptions } from './window-attention.ts';
export { PatchMerging, type PatchMergingOptions } from './patch-merging.ts';
export { relPosMaxIndex, relPosTableLength, relPosDistances, relPosRows, addDecomposedRelPos, decomposedRelPosScores, resizeRelPosTable, type Grid } from './decomposed-rel-pos.ts';
export { MultiScaleAttention, type MultiScaleAttentionOptions } from './pooling-attention.ts';
export { ResidualAttentionBlock, ResidualAttentionStack, ClipMlp, type ClipActivation, type ResidualAttentionBlockOptions } from './residual-attention.ts';
export { AttentionPool2d } from './attention-pool.ts';
