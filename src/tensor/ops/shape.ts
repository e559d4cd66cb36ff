/**
 * Shape ops. Views (reshape of viewable data, permute, transpose, squeeze, unsqueeze,
 * expand, narrow, slice, select) share storage; cat, stack, pad, roll, repeat copy.
 */
import { ArgumentError, formatShape, IndexError, ShapeError } from '../../errors.ts';
import { record } from '../autograd.ts';
import { native } from '../native.ts';
import { contiguousStrides, numelOf, Tensor } from '../tensor.ts';
import { ge, where, cast } from './elementwise.ts';
import { indexSelect } from './index.ts';
import { arange, scalarTensor, tensor } from '../creation.ts';

/** Resolves a possibly negative dim against a rank, or throws IndexError naming the op. */
export function normalizeDim(op: string, dim: number, ndim: number): number {
  const n = Math.max(ndim, 1);
  if (!Number.isInteger(dim) || dim < -n || dim >= n) {
    throw new IndexError(`${op}: dim ${dim} is out of range for a tensor of rank ${ndim} (expected ${-n}..${n - 1})`);
  }
  return dim < 0 ? dim + n : dim;
}

/** Accepts either spread numbers or one array (reshape(2, 3) and reshape([2, 3])). */
export function shapeArg(args: number[] | [readonly number[]]): readonly number[] {
  return args.length === 1 && Array.isArray(args[0]) ? (args[0] as readonly number[]) : (args as number[]);
}

/** True when two shapes are equal. */
export function shapeEquals(a: readonly number[], b: readonly number[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; ++i) if (a[i] !== b[i]) return false;
  return true;
}

/** The broadcast of several shapes (numpy rules), or ShapeError naming the op. */
export function broadcastShapes(op: string, ...shapes: (readonly number[])[]): number[] {
  const nd = Math.max(...shapes.map((s) => s.length));
  const out = new Array<number>(nd).fill(1);
  for (const s of shapes) {
    for (let i = 0; i < s.length; ++i) {
      const o = nd - s.length + i;
      const d = s[i];
      if (d === out[o] || d === 1) continue;
      if (out[o] === 1) out[o] = d;
      else throw new ShapeError(`${op}: shapes ${shapes.map(formatShape).join(' and ')} cannot be broadcast together (dim ${o}: ${out[o]} vs ${d})`);
    }
  }
  return out;
}

function resolveShape(op: string, x: Tensor, shape: readonly number[]): number[] {
  const out = [...shape];
  let infer = -1;
  let known = 1;
  for (let i = 0; i < out.length; ++i) {
    if (out[i] === -1) {
      if (infer >= 0) throw new ShapeError(`${op}: only one dimension can be -1, got ${formatShape(shape)}`);
      infer = i;
    } else if (!Number.isInteger(out[i]) || out[i] < 0) {
      throw new ShapeError(`${op}: invalid size ${out[i]} in ${formatShape(shape)}`);
    } else known *= out[i];
  }
  if (infer >= 0) {
    if (known === 0 || x.numel % known !== 0) throw new ShapeError(`${op}: shape ${formatShape(shape)} is invalid for input of size ${x.numel}`);
    out[infer] = x.numel / known;
  }
  if (numelOf(out) !== x.numel) throw new ShapeError(`${op}: shape ${formatShape(shape)} is invalid for input of size ${x.numel} (shape ${formatShape(x.shape)})`);
  return out;
}

// Strides for viewing (shape, strides) as newShape without a copy, or null (torch's computeStride).
function viewStrides(shape: readonly number[], strides: readonly number[], newShape: readonly number[]): number[] | null {
  if (numelOf(shape) === 0) return contiguousStrides(newShape);
  const out = new Array<number>(newShape.length);
  let viewD = newShape.length - 1;
  let chunkBase = strides.length > 0 ? strides[strides.length - 1] : 1;
  let tensorNumel = 1;
  let viewNumel = 1;
  for (let d = shape.length - 1; d >= 0; --d) {
    tensorNumel *= shape[d];
    if (d === 0 || (shape[d - 1] !== 1 && strides[d - 1] !== tensorNumel * chunkBase)) {
      while (viewD >= 0 && (viewNumel < tensorNumel || newShape[viewD] === 1)) {
        out[viewD] = viewNumel * chunkBase;
        viewNumel *= newShape[viewD];
        viewD--;
      }
      if (viewNumel !== tensorNumel) return null;
      if (d > 0) {
        chunkBase = strides[d - 1];
        tensorNumel = 1;
        viewNumel = 1;
      }
    }
  }
  if (viewD !== -1) {
    for (; viewD >= 0; --viewD) out[viewD] = 1;
  }
  return out;
}

function makeView(x: Tensor, shape: readonly number[], strides: readonly number[], offset: number): Tensor {
  x.assertAlive('view');
  return new Tensor(x.storage, shape, strides, offset, x.dtype);
}

/** view: the same data under a new shape without copying; ShapeError if the strides do not allow it. */
export function view(x: Tensor, shape: readonly number[]): Tensor {
  const target = resolveShape('view', x, shape);
  const strides = viewStrides(x.shape, x.strides, target);
  if (!strides) {
    throw new ShapeError(`view: shape ${formatShape(target)} is not compatible with the input's strides (shape ${formatShape(x.shape)}, strides ${formatShape(x.strides)}); use reshape()`);
  }
  const out = makeView(x, target, strides, x.offset);
  return record(out, 'view', [x], (g) => [reshape(g, x.shape)]);
}

/** reshape: a view when the strides allow, else a contiguous copy. */
export function reshape(x: Tensor, shape: readonly number[]): Tensor {
  const target = resolveShape('reshape', x, shape);
  if (shapeEquals(target, x.shape)) return x;
  const strides = viewStrides(x.shape, x.strides, target);
  if (strides) return record(makeView(x, target, strides, x.offset), 'reshape', [x], (g) => [reshape(g, x.shape)]);
  return view(contiguous(x), target);
}

/** permute: reorders dims (a view). */
export function permute(x: Tensor, dims: readonly number[]): Tensor {
  if (dims.length !== x.ndim) throw new ShapeError(`permute: got ${dims.length} dims ${formatShape(dims)} for a tensor of rank ${x.ndim}`);
  const d = dims.map((v) => normalizeDim('permute', v, x.ndim));
  if (new Set(d).size !== d.length) throw new ShapeError(`permute: dims ${formatShape(dims)} repeat a dim`);
  const out = makeView(x, d.map((i) => x.shape[i]), d.map((i) => x.strides[i]), x.offset);
  const inverse = new Array<number>(d.length);
  d.forEach((v, i) => (inverse[v] = i));
  return record(out, 'permute', [x], (g) => [permute(g, inverse)]);
}

/** transpose: swaps two dims (a view). */
export function transpose(x: Tensor, dim0: number, dim1: number): Tensor {
  const a = normalizeDim('transpose', dim0, x.ndim);
  const b = normalizeDim('transpose', dim1, x.ndim);
  const dims = Array.from({ length: x.ndim }, (_, i) => i);
  dims[a] = b;
  dims[b] = a;
  return x.ndim === 0 ? x : permute(x, dims);
}

/** flatten: merges dims startDim..endDim. */
export function flatten(x: Tensor, startDim = 0, endDim = -1): Tensor {
  if (x.ndim === 0) return reshape(x, [1]);
  const s = normalizeDim('flatten', startDim, x.ndim);
  const e = normalizeDim('flatten', endDim, x.ndim);
  if (s > e) throw new ArgumentError(`flatten: startDim ${startDim} comes after endDim ${endDim}`);
  const merged = x.shape.slice(s, e + 1).reduce((p, q) => p * q, 1);
  return reshape(x, [...x.shape.slice(0, s), merged, ...x.shape.slice(e + 1)]);
}

/** unflatten: splits one dim into sizes (one may be -1). */
export function unflatten(x: Tensor, dim: number, sizes: readonly number[]): Tensor {
  const d = normalizeDim('unflatten', dim, x.ndim);
  const known = sizes.filter((v) => v !== -1).reduce((p, q) => p * q, 1);
  const filled = sizes.map((v) => (v === -1 ? x.shape[d] / known : v));
  if (numelOf(filled) !== x.shape[d]) throw new ShapeError(`unflatten: sizes ${formatShape(sizes)} do not multiply to dim ${d} of size ${x.shape[d]}`);
  return reshape(x, [...x.shape.slice(0, d), ...filled, ...x.shape.slice(d + 1)]);
}

/** squeeze: removes size-1 dims (all, or the given ones). */
export function squeeze(x: Tensor, dim?: number | readonly number[]): Tensor {
  const dims =
    dim === undefined
      ? x.shape.map((_, i) => i).filter((i) => x.shape[i] === 1)
      : (typeof dim === 'number' ? [dim] : dim).map((v) => normalizeDim('squeeze', v, x.ndim)).filter((i) => x.shape[i] === 1);
  if (dims.length === 0) return x;
  const keep = x.shape.map((_, i) => i).filter((i) => !dims.includes(i));
  const out = makeView(x, keep.map((i) => x.shape[i]), keep.map((i) => x.strides[i]), x.offset);
  return record(out, 'squeeze', [x], (g) => [reshape(g, x.shape)]);
}

/** unsqueeze: inserts a size-1 dim at `dim`. */
export function unsqueeze(x: Tensor, dim: number): Tensor {
  const d = normalizeDim('unsqueeze', dim, x.ndim + 1);
  const shape = [...x.shape];
  const strides = [...x.strides];
  const stride = d < x.ndim ? x.strides[d] * x.shape[d] : 1;
  shape.splice(d, 0, 1);
  strides.splice(d, 0, stride);
  const out = makeView(x, shape, strides, x.offset);
  return record(out, 'unsqueeze', [x], (g) => [reshape(g, x.shape)]);
}

/** expand: broadcasts size-1 dims (and new leading dims) to `shape` without copying; -1 keeps a size. */
export function expand(x: Tensor, shape: readonly number[]): Tensor {
  if (shape.length < x.ndim) throw new ShapeError(`expand: target ${formatShape(shape)} has fewer dims than the input ${formatShape(x.shape)}`);
  const lead = shape.length - x.ndim;
  const outShape: number[] = [];
  const outStrides: number[] = [];
  for (let i = 0; i < shape.length; ++i) {
    const src = i - lead;
    const size = shape[i] === -1 && src >= 0 ? x.shape[src] : shape[i];
    if (src < 0) {
      if (size < 0) throw new ShapeError(`expand: -1 is not allowed for the new leading dim ${i} in ${formatShape(shape)}`);
      outShape.push(size);
      outStrides.push(0);
    } else if (x.shape[src] === size) {
      outShape.push(size);
      outStrides.push(x.strides[src]);
    } else if (x.shape[src] === 1) {
      outShape.push(size);
      outStrides.push(0);
    } else {
      throw new ShapeError(`expand: cannot expand ${formatShape(x.shape)} to ${formatShape(shape)} (dim ${i}: ${x.shape[src]} vs ${size})`);
    }
  }
  if (shapeEquals(outShape, x.shape)) return x;
  // Backward is the identity: the engine sums the grad back to the input's shape.
  return record(makeView(x, outShape, outStrides, x.offset), 'expand', [x], (g) => [g]);
}

/** narrow: elements start..start+length of one dim (a view). */
export function narrow(x: Tensor, dim: number, start: number, length: number): Tensor {
  const d = normalizeDim('narrow', dim, x.ndim);
  const size = x.shape[d];
  const s = start < 0 ? start + size : start;
  if (!Number.isInteger(s) || !Number.isInteger(length) || s < 0 || length < 0 || s + length > size) {
    throw new IndexError(`narrow: range start ${start}, length ${length} is outside dim ${d} of size ${size}`);
  }
  return slice(x, d, s, s + length, 1);
}

/** slice: elements start..end (exclusive) with a step along one dim (a view); bounds clamp like Python's. */
export function slice(x: Tensor, dim: number, start = 0, end = Number.MAX_SAFE_INTEGER, step = 1): Tensor {
  const d = normalizeDim('slice', dim, x.ndim);
  if (!Number.isInteger(step) || step <= 0) throw new ArgumentError(`slice: step must be a positive integer, got ${step}`);
  const size = x.shape[d];
  const clampIdx = (v: number) => Math.min(Math.max(v < 0 ? v + size : v, 0), size);
  const s = clampIdx(start);
  const e = Math.max(clampIdx(end), s);
  const len = Math.ceil((e - s) / step);
  const shape = [...x.shape];
  const strides = [...x.strides];
  shape[d] = len;
  strides[d] = x.strides[d] * step;
  const out = makeView(x, shape, strides, x.offset + s * x.strides[d]);
  return record(out, 'slice', [x], (g) => {
    const full = Tensor.empty(x.shape, g.dtype);
    copyInto(slice(full, d, s, e, step), g);
    return [full];
  });
}

/** select: index one dim, removing it (a view). */
export function select(x: Tensor, dim: number, index: number): Tensor {
  const d = normalizeDim('select', dim, x.ndim);
  const size = x.shape[d];
  if (!Number.isInteger(index) || index < -size || index >= size) {
    throw new IndexError(`select: index ${index} is out of range for dim ${d} of size ${size}`);
  }
  const i = index < 0 ? index + size : index;
  return squeeze(narrow(x, d, i, 1), d);
}

/** contiguous: x itself when already row-major, else a row-major copy. */
export function contiguous(x: Tensor): Tensor {
  if (x.isContiguous()) return x;
  return clone(x);
}

/** clone: a row-major copy. */
export function clone(x: Tensor): Tensor {
  x.assertAlive('clone');
  const out = Tensor.uninitialized(x.shape, x.dtype);
  native.copy(x, out);
  return record(out, 'clone', [x], (g) => [g]);
}

/** Copies src into dst in place (src broadcast to dst's shape and cast to its dtype); not recorded. */
export function copyInto(dst: Tensor, src: Tensor): void {
  dst.assertAlive('copy_');
  src.assertAlive('copy_');
  const s = shapeEquals(src.shape, dst.shape) ? src : expand(src, dst.shape);
  native.copy(s, dst);
  dst.storage.version++;
}

/** Fills dst in place with a value; not recorded. */
export function fillInto(dst: Tensor, value: number): void {
  dst.assertAlive('fill_');
  if (dst.isContiguous()) native.fill(dst, value);
  else native.copy(expand(scalarTensor(value, dst.dtype), dst.shape), dst);
  dst.storage.version++;
}

/** cat: joins tensors along an existing dim. */
export function cat(tensors: readonly Tensor[], dim = 0): Tensor {
  if (tensors.length === 0) throw new ArgumentError('cat: expected a non-empty list of tensors');
  const first = tensors[0];
  const d = normalizeDim('cat', dim, first.ndim);
  let total = 0;
  tensors.forEach((t, k) => {
    if (t.ndim !== first.ndim || t.shape.some((v, i) => i !== d && v !== first.shape[i])) {
      throw new ShapeError(`cat: tensor ${k} has shape ${formatShape(t.shape)}, expected ${formatShape(first.shape)} except in dim ${d}`);
    }
    if (t.dtype !== first.dtype) throw new ShapeError(`cat: tensor ${k} has dtype ${t.dtype}, expected ${first.dtype}`);
    total += t.shape[d];
  });
  const shape = [...first.shape];
  shape[d] = total;
  const out = Tensor.empty(shape, first.dtype);
  let at = 0;
  const starts: number[] = [];
  for (const t of tensors) {
    starts.push(at);
    if (t.shape[d] > 0) native.copy(t, slice(out.detach(), d, at, at + t.shape[d]));
    at += t.shape[d];
  }
  return record(out, 'cat', tensors, (g) => tensors.map((t, k) => slice(g, d, starts[k], starts[k] + t.shape[d])));
}

/** stack: joins tensors of equal shape along a new dim. */
export function stack(tensors: readonly Tensor[], dim = 0): Tensor {
  if (tensors.length === 0) throw new ArgumentError('stack: expected a non-empty list of tensors');
  const d = normalizeDim('stack', dim, tensors[0].ndim + 1);
  tensors.forEach((t, k) => {
    if (!shapeEquals(t.shape, tensors[0].shape)) throw new ShapeError(`stack: tensor ${k} has shape ${formatShape(t.shape)}, expected ${formatShape(tensors[0].shape)}`);
  });
  return cat(tensors.map((t) => unsqueeze(t, d)), d);
}

/** split: pieces of `size` (last may be smaller), or of the given section sizes. */
export function split(x: Tensor, sizeOrSections: number | readonly number[], dim = 0): Tensor[] {
  const d = normalizeDim('split', dim, x.ndim);
  const n = x.shape[d];
  let sizes: number[];
  if (typeof sizeOrSections === 'number') {
    if (!Number.isInteger(sizeOrSections) || sizeOrSections <= 0) throw new ArgumentError(`split: size must be a positive integer, got ${sizeOrSections}`);
    sizes = [];
    for (let at = 0; at < n; at += sizeOrSections) sizes.push(Math.min(sizeOrSections, n - at));
    if (n === 0) sizes = [0];
  } else {
    sizes = [...sizeOrSections];
    const sum = sizes.reduce((p, q) => p + q, 0);
    if (sum !== n) throw new ShapeError(`split: sections ${formatShape(sizes)} sum to ${sum}, expected dim ${d} of size ${n}`);
  }
  const out: Tensor[] = [];
  let at = 0;
  for (const s of sizes) {
    out.push(narrow(x, d, at, s));
    at += s;
  }
  return out;
}

/** chunk: up to `chunks` pieces of size ceil(n / chunks). */
export function chunk(x: Tensor, chunks: number, dim = 0): Tensor[] {
  if (!Number.isInteger(chunks) || chunks <= 0) throw new ArgumentError(`chunk: chunks must be a positive integer, got ${chunks}`);
  const d = normalizeDim('chunk', dim, x.ndim);
  return split(x, Math.max(1, Math.ceil(x.shape[d] / chunks)), d);
}

/** Padding modes of pad(). */
export type PadMode = 'constant' | 'reflect' | 'replicate' | 'circular';

/**
 * pad: pads (or, with negative amounts, crops) the last dims; `padding` lists
 * (before, after) pairs starting from the last dim, as torch.nn.functional.pad.
 */
export function pad(x: Tensor, padding: readonly number[], mode: PadMode = 'constant', value = 0): Tensor {
  if (padding.length % 2 !== 0 || padding.length / 2 > x.ndim) {
    throw new ShapeError(`pad: padding ${formatShape(padding)} must hold (before, after) pairs for at most ${x.ndim} dims`);
  }
  const pairs = padding.length / 2;
  if (mode === 'constant') {
    const shape = [...x.shape];
    const region: [number, number, number][] = []; // (dim, before, after) per padded dim
    for (let k = 0; k < pairs; ++k) {
      const d = x.ndim - 1 - k;
      const before = padding[2 * k];
      const after = padding[2 * k + 1];
      shape[d] = x.shape[d] + before + after;
      if (shape[d] < 0) throw new ShapeError(`pad: padding ${formatShape(padding)} leaves dim ${d} of size ${x.shape[d]} with negative size`);
      region.push([d, before, after]);
    }
    const out = Tensor.empty(shape, x.dtype);
    fillInto(out, value);
    let src = x.detach();
    let dst = out.detach();
    for (const [d, before, after] of region) {
      const srcStart = Math.max(0, -before);
      const dstStart = Math.max(0, before);
      const len = x.shape[d] - srcStart - Math.max(0, -after);
      src = narrow(src, d, srcStart, Math.max(0, len));
      dst = narrow(dst, d, dstStart, Math.max(0, len));
    }
    if (src.numel > 0) native.copy(src, dst);
    return record(out, 'pad', [x], (g) => {
      let gx = g;
      for (const [d, before, after] of region) {
        const start = Math.max(0, before);
        gx = narrow(gx, d, start, shape[d] - start - Math.max(0, after));
      }
      return [pad(gx, region.flatMap(([, b, a]) => [Math.max(0, -b), Math.max(0, -a)]))];
    });
  }
  // Non-constant modes gather along each padded dim with a precomputed index.
  let out = x;
  for (let k = 0; k < pairs; ++k) {
    const d = x.ndim - 1 - k;
    const n = x.shape[d];
    const before = padding[2 * k];
    const after = padding[2 * k + 1];
    if (mode === 'reflect' && (before >= n || after >= n)) {
      throw new ShapeError(`pad: reflect padding (${before}, ${after}) must be smaller than dim ${d} of size ${n}`);
    }
    const idx: number[] = [];
    for (let i = -before; i < n + after; ++i) {
      if (mode === 'replicate') idx.push(Math.min(Math.max(i, 0), n - 1));
      else if (mode === 'circular') idx.push(((i % n) + n) % n);
      else {
        const period = 2 * (n - 1);
        let j = ((i % period) + period) % period;
        if (j >= n) j = period - j;
        idx.push(n === 1 ? 0 : j);
      }
    }
    out = indexSelect(out, d, tensor(idx, { dtype: 'int64' }));
  }
  return out;
}

/** roll: shifts elements along dims with wrap-around; without dims, over the flattened tensor. */
export function roll(x: Tensor, shifts: number | readonly number[], dims?: number | readonly number[]): Tensor {
  const s = typeof shifts === 'number' ? [shifts] : [...shifts];
  if (dims === undefined) return reshape(roll(flatten(x), s, [0]), x.shape);
  const ds = typeof dims === 'number' ? [dims] : [...dims];
  if (s.length !== ds.length) throw new ArgumentError(`roll: ${s.length} shifts for ${ds.length} dims`);
  let out = x;
  for (let k = 0; k < ds.length; ++k) {
    const d = normalizeDim('roll', ds[k], x.ndim);
    const n = x.shape[d];
    if (n === 0) continue;
    const shift = ((s[k] % n) + n) % n;
    if (shift === 0) continue;
    out = cat([narrow(out, d, n - shift, shift), narrow(out, d, 0, n - shift)], d);
  }
  return out;
}

/** repeat: tiles the tensor `repeats[i]` times along each dim (torch.Tensor.repeat). */
export function repeat(x: Tensor, repeats: readonly number[]): Tensor {
  if (repeats.length < x.ndim) throw new ShapeError(`repeat: ${repeats.length} repeats for a tensor of rank ${x.ndim}`);
  const shape = [...new Array<number>(repeats.length - x.ndim).fill(1), ...x.shape];
  const inter: number[] = [];
  const expanded: number[] = [];
  for (let i = 0; i < shape.length; ++i) {
    inter.push(1, shape[i]);
    expanded.push(repeats[i], shape[i]);
  }
  const tiled = contiguous(expand(reshape(x, inter), expanded));
  return reshape(tiled, shape.map((v, i) => v * repeats[i]));
}

function triangle(op: string, x: Tensor, diagonal: number, lower: boolean): Tensor {
  if (x.ndim < 2) throw new ShapeError(`${op}: expected a tensor of rank >= 2, got shape ${formatShape(x.shape)}`);
  const rows = x.shape[x.ndim - 2];
  const cols = x.shape[x.ndim - 1];
  // keep where col - row <= diagonal (tril) or col - row >= diagonal (triu)
  const colMinusRow = arange(cols).reshape(1, cols).sub(arange(rows).reshape(rows, 1));
  const keep = lower ? ge(scalarTensor(diagonal, 'int64'), colMinusRow) : ge(colMinusRow, scalarTensor(diagonal, 'int64'));
  return where(keep, x, cast(scalarTensor(0, x.dtype), x.dtype));
}

/** tril: zeroes elements above the given diagonal of the last two dims. */
export function tril(x: Tensor, diagonal = 0): Tensor {
  return triangle('tril', x, diagonal, true);
}

/** triu: zeroes elements below the given diagonal of the last two dims. */
export function triu(x: Tensor, diagonal = 0): Tensor {
  return triangle('triu', x, diagonal, false);
}
