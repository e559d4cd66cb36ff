/**
 * Window attention plumbing (Swin; timm `models/swin_transformer.py` window_partition,
 * window_reverse, SwinTransformerBlock.get_attn_mask and _attn; torchvision
 * `shifted_window_attention`): cut a channels-last grid [B, H, W, C] into non-overlapping
 * windows, optionally after a cyclic shift and zero padding up to whole windows, and put the
 * tokens back afterwards. The two references differ in one point: timm shifts the grid and then
 * pads it, torchvision pads and then shifts the padded grid; they agree when no padding is needed.
 *
 * A WindowLayout turns shift + pad + partition into one row gather (and the way back into
 * another); its indices are made by running the reference's own steps (roll, pad, partition) on
 * a grid of token numbers, once per grid and cached.
 */
import { ArgumentError, formatShape, ShapeError } from '../../errors.ts';
import { arange, fromTypedArray, scalarTensor } from '../../tensor/creation.ts';
import { persistent } from '../../tensor/memory.ts';
import { ne, sub } from '../../tensor/ops/elementwise.ts';
import { where } from '../../tensor/ops/unary.ts';
import { indexSelect } from '../../tensor/ops/index.ts';
import { cat, contiguous, narrow, pad, permute, reshape, roll, unsqueeze } from '../../tensor/ops/shape.ts';
import type { Tensor } from '../../tensor/tensor.ts';

/** Which reference's order of cyclic shift and zero padding (see the file header). */
export type ShiftOrder = 'shift-then-pad' | 'pad-then-shift';

/** The additive value that keeps tokens from different regions of a shifted window apart (all references use −100, not −∞). */
export const SHIFTED_WINDOW_MASK_VALUE = -100;

function windowGrid(op: string, x: Tensor, window: readonly [number, number]): [number, number] {
  const [, H, W] = x.shape;
  if (H % window[0] !== 0 || W % window[1] !== 0) {
    throw new ShapeError(`${op}: a ${H}×${W} grid is not a whole number of ${window.join('×')} windows`);
  }
  return [H / window[0], W / window[1]];
}

/** timm's window_partition: x [B, H, W, C] (H, W whole windows) → [B·nW, wh, ww, C], windows row-major, batch outermost. */
export function windowPartition(x: Tensor, window: readonly [number, number]): Tensor {
  if (x.ndim !== 4) throw new ShapeError(`windowPartition: expected a grid [B, H, W, C], got shape ${formatShape(x.shape)}`);
  const [B, , , C] = x.shape;
  const [nh, nw] = windowGrid('windowPartition', x, window);
  const split = reshape(x, [B, nh, window[0], nw, window[1], C]); // (B, nh, wh, nw, ww, C)
  return reshape(contiguous(permute(split, [0, 1, 3, 2, 4, 5])), [B * nh * nw, window[0], window[1], C]); // (B·nW, wh, ww, C)
}

/** timm's window_reverse: windows [B·nW, wh, ww, C] of an H×W grid → [B, H, W, C]. */
export function windowReverse(windows: Tensor, window: readonly [number, number], H: number, W: number): Tensor {
  if (windows.ndim !== 4 || H % window[0] !== 0 || W % window[1] !== 0) {
    throw new ShapeError(`windowReverse: expected windows [B·nW, ${window.join(', ')}, C] of a grid of whole windows, got shape ${formatShape(windows.shape)} for ${H}×${W}`);
  }
  const C = windows.shape[3];
  const [nh, nw] = [H / window[0], W / window[1]];
  const split = reshape(windows, [-1, nh, nw, window[0], window[1], C]); // (B, nh, nw, wh, ww, C)
  return reshape(contiguous(permute(split, [0, 1, 3, 2, 4, 5])), [-1, H, W, C]); // (B, H, W, C)
}

// Python's slice(start, stop) on a length: negative bounds count from the end (a shift of 0 gives
// -0, which is 0), null is the end.
function sliceRange(start: number, stop: number | null, length: number): [number, number] {
  const at = (v: number) => Math.min(Math.max(v < 0 ? v + length : v, 0), length);
  return [at(start), stop === null ? length : at(stop)];
}

/**
 * The shifted-window attention mask [nW, N, N] of a padded Hp×Wp grid (timm get_attn_mask,
 * torchvision's inline mask): the grid's three row bands [0, Hp−wh), [Hp−wh, Hp−sh), [Hp−sh, Hp)
 * times three column bands get labels 0…8 (later bands overwrite earlier ones, as the reference's
 * slice assignments do when a shift is 0); tokens of a window with different labels get −100.
 */
export function shiftedWindowMask(paddedSize: readonly [number, number], window: readonly [number, number], shift: readonly [number, number]): Tensor {
  const [Hp, Wp] = paddedSize;
  const bands = (L: number, w: number, s: number) => [sliceRange(0, -w, L), sliceRange(-w, -s, L), sliceRange(-s, null, L)];
  const labels = new Float32Array(Hp * Wp);
  let count = 0;
  for (const [r0, r1] of bands(Hp, window[0], shift[0])) {
    for (const [c0, c1] of bands(Wp, window[1], shift[1])) {
      for (let r = r0; r < r1; ++r) labels.fill(count, r * Wp + c0, r * Wp + c1);
      ++count;
    }
  }
  const image = fromTypedArray(labels, [1, Hp, Wp, 1]); // (1, Hp, Wp, 1)
  const n = window[0] * window[1];
  const perWindow = reshape(windowPartition(image, window), [-1, n]); // (nW, N)
  const differ = sub(unsqueeze(perWindow, 1), unsqueeze(perWindow, 2)); // (nW, N, N)
  return where(ne(differ, 0), scalarTensor(SHIFTED_WINDOW_MASK_VALUE), scalarTensor(0)); // (nW, N, N) float32
}

/** How one grid size is cut into shifted windows: gathers in and out, and the attention mask. */
export interface WindowLayout {
  /** Grid [H, W] the layout is for. */
  readonly size: readonly [number, number];
  /** Grid after zero padding to whole windows, [Hp, Wp]. */
  readonly paddedSize: readonly [number, number];
  readonly window: readonly [number, number];
  readonly shift: readonly [number, number];
  readonly numWindows: number;
  /** Rows of the padded grid (row-major, Hp·Wp) that make the windows' tokens in order [nW·N]; null when that is the grid itself. */
  readonly partition: Tensor | null;
  /** Rows of the window-ordered tokens that make the H×W grid again, row-major [H·W]; null when that is the identity. */
  readonly reverse: Tensor | null;
  /** Additive mask [nW, N, N] (0 or −100) of a shifted layout; null without a shift. */
  readonly mask: Tensor | null;
}

function checkLayoutArgs(size: readonly [number, number], window: readonly [number, number], shift: readonly [number, number]): void {
  const ints = (v: readonly number[], min: number) => v.length === 2 && v.every((s) => Number.isInteger(s) && s >= min);
  if (!ints(size, 1) || !ints(window, 1) || !ints(shift, 0) || shift[0] >= window[0] || shift[1] >= window[1]) {
    throw new ArgumentError(`windowLayout: expected a grid and a window of integers >= 1 and a shift in [0, window), got grid [${size.join(', ')}], window [${window.join(', ')}], shift [${shift.join(', ')}]`);
  }
}

// An index that reads every row of a source of `rows` rows in order (a gather that would only copy).
const isIdentity = (index: Tensor, rows: number) => index.numel === rows && (index.toArray() as Int32Array).every((v, i) => v === i);

function buildLayout(size: readonly [number, number], window: readonly [number, number], shift: readonly [number, number], order: ShiftOrder): WindowLayout {
  const [H, W] = size;
  const Hp = Math.ceil(H / window[0]) * window[0];
  const Wp = Math.ceil(W / window[1]) * window[1];
  const numWindows = (Hp / window[0]) * (Wp / window[1]);
  const shifted = shift[0] > 0 || shift[1] > 0;
  const back = (t: Tensor) => (shifted ? roll(t, [shift[0], shift[1]], [0, 1]) : t);
  const forth = (t: Tensor) => (shifted ? roll(t, [-shift[0], -shift[1]], [0, 1]) : t);
  const crop = (t: Tensor) => narrow(narrow(t, 0, 0, H), 1, 0, W);
  // Token numbers of the padded grid. timm shifts the real H×W tokens only; its padded slots (zeros) read themselves.
  const numbers = reshape(arange(Hp * Wp, undefined, 1, { dtype: 'int32' }), [Hp, Wp]); // (Hp, Wp)
  const shiftReal = (n: Tensor) => {
    const rows = cat([forth(crop(n)), narrow(narrow(n, 0, 0, H), 1, W, Wp - W)], 1); // (H, Wp)
    return cat([rows, narrow(n, 0, H, Hp - H)], 0); // (Hp, Wp)
  };
  const source = order === 'pad-then-shift' ? forth(numbers) : shiftReal(numbers);
  const partition = reshape(windowPartition(reshape(source, [1, Hp, Wp, 1]), window), [numWindows * window[0] * window[1]]);
  // Where each window slot lands, read back through the reference's reverse steps.
  const slots = reshape(arange(Hp * Wp, undefined, 1, { dtype: 'int32' }), [numWindows, window[0], window[1], 1]);
  const landed = reshape(windowReverse(slots, window, Hp, Wp), [Hp, Wp]); // (Hp, Wp)
  const reverse = reshape(contiguous(order === 'pad-then-shift' ? crop(back(landed)) : back(crop(landed))), [H * W]);
  return {
    size: [H, W], paddedSize: [Hp, Wp], window: [window[0], window[1]], shift: [shift[0], shift[1]], numWindows,
    partition: isIdentity(partition, Hp * Wp) ? null : partition,
    reverse: isIdentity(reverse, numWindows * window[0] * window[1]) ? null : reverse,
    mask: shifted ? shiftedWindowMask([Hp, Wp], window, shift) : null,
  };
}

const LAYOUT_CACHE_SIZE = 64;
const layouts = new Map<string, WindowLayout>();

/**
 * The layout of an H×W grid cut into windows after a cyclic shift by `shift` (towards the top
 * left) and zero padding, in the given reference's order. Built once per arguments and cached
 * (the most recent 64 layouts are kept).
 */
export function windowLayout(size: readonly [number, number], window: readonly [number, number], shift: readonly [number, number] = [0, 0], order: ShiftOrder = 'shift-then-pad'): WindowLayout {
  checkLayoutArgs(size, window, shift);
  const key = [...size, ...window, ...shift, order].join(',');
  let layout = layouts.get(key);
  if (layout) {
    layouts.delete(key);
  } else {
    layout = persistent(() => buildLayout(size, window, shift, order));
    if (layouts.size >= LAYOUT_CACHE_SIZE) layouts.delete(layouts.keys().next().value!);
  }
  layouts.set(key, layout);
  return layout;
}

/** Grid x [B, H, W, C] → its windows' tokens [B, nW, N, C] under a layout (shifted and zero padded as the layout says). */
export function partitionWindows(x: Tensor, layout: WindowLayout): Tensor {
  if (x.ndim !== 4 || x.shape[1] !== layout.size[0] || x.shape[2] !== layout.size[1]) {
    throw new ShapeError(`partitionWindows: expected a grid [B, ${layout.size.join(', ')}, C], got shape ${formatShape(x.shape)}`);
  }
  const [B, H, W, C] = x.shape;
  const [Hp, Wp] = layout.paddedSize;
  const padded = Hp !== H || Wp !== W ? pad(x, [0, 0, 0, Wp - W, 0, Hp - H]) : x; // (B, Hp, Wp, C)
  const rows = reshape(padded, [B, Hp * Wp, C]); // (B, Hp·Wp, C)
  const tokens = layout.partition ? indexSelect(rows, 1, layout.partition) : rows; // (B, nW·N, C)
  return reshape(tokens, [B, layout.numWindows, layout.window[0] * layout.window[1], C]); // (B, nW, N, C)
}

/** Window tokens [B, nW, N, C] → the grid's tokens [B, H·W, C], row-major (shift undone, padding dropped). */
export function reverseWindows(windows: Tensor, layout: WindowLayout): Tensor {
  const n = layout.window[0] * layout.window[1];
  if (windows.ndim !== 4 || windows.shape[1] !== layout.numWindows || windows.shape[2] !== n) {
    throw new ShapeError(`reverseWindows: expected windows [B, ${layout.numWindows}, ${n}, C], got shape ${formatShape(windows.shape)}`);
  }
  const [B, , , C] = windows.shape;
  const tokens = reshape(windows, [B, layout.numWindows * n, C]); // (B, nW·N, C)
  return layout.reverse ? indexSelect(tokens, 1, layout.reverse) : tokens; // (B, H·W, C)
}
