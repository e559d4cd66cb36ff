/** Unary elementwise math and where/clamp. */
import type { Tensor } from '../tensor.ts';
import { pending } from './pending.ts';

/** −x */
export function neg(x: Tensor): Tensor { return pending('neg'); }
/** eˣ */
export function exp(x: Tensor): Tensor { return pending('exp'); }
/** Natural log. */
export function log(x: Tensor): Tensor { return pending('log'); }
/** √x */
export function sqrt(x: Tensor): Tensor { return pending('sqrt'); }
/** 1/√x */
export function rsqrt(x: Tensor): Tensor { return pending('rsqrt'); }
/** |x| */
export function abs(x: Tensor): Tensor { return pending('abs'); }
/** sin x */
export function sin(x: Tensor): Tensor { return pending('sin'); }
/** cos x */
export function cos(x: Tensor): Tensor { return pending('cos'); }
/** The Gauss error function. */
export function erf(x: Tensor): Tensor { return pending('erf'); }
/** 1/x */
export function reciprocal(x: Tensor): Tensor { return pending('reciprocal'); }
/** Clamps into [min, max]; either bound may be omitted. */
export function clamp(x: Tensor, min?: number | null, max?: number | null): Tensor { return pending('clamp'); }
/** cond ? a : b elementwise, broadcasting all three; a or b may be numbers. */
export function where(cond: Tensor, a: Tensor | number, b: Tensor | number): Tensor { return pending('where'); }
