/**
 * Named-tensor inference, the contract tsvision is checked against other implementations with:
 * a model reads the named inputs of its spec (model.spec: pixel_values, input_ids, ...) and
 * writes the named outputs (logits, pre_logits, embeddings, ...). Inputs are checked against the
 * spec first, so a missing, extra or mis-shaped tensor is a typed error that names the spec.
 */
import { formatShape, TsvisionError } from '../errors.ts';
import { formatSpec, formatTensorSpec, type Model, type ModelSpec, type NamedTensors, type TensorSpec } from '../models/index.ts';
import type { Module } from '../nn/module.ts';
import { noGrad } from '../tensor/autograd.ts';
import { isFloating } from '../tensor/dtype.ts';
import { amax, amin } from '../tensor/ops/reduce.ts';
import { cast } from '../tensor/ops/elementwise.ts';
import type { Tensor } from '../tensor/tensor.ts';

/** Inputs that do not match a model's input spec: a missing, unknown, mis-shaped or mistyped tensor. */
export class InputSpecError extends TsvisionError {
  constructor(message: string) {
    super('E_INPUT_SPEC', message);
  }
}

const describe = (t: Tensor) => `${formatShape(t.shape)} ${t.dtype}`;

// Checks one input's rank, dims, dtype and value range; binds the named dims it meets.
function checkInput(spec: TensorSpec, t: Tensor, sizes: Map<string, number>, multipleOf: Readonly<Record<string, number>>, fail: (why: string) => never): Tensor {
  if (t.ndim !== spec.shape.length + 1) fail(`${spec.name} has shape ${describe(t)}, expected ${spec.shape.length + 1} dims ${formatTensorSpec(spec)}`);
  [spec.batchDim ?? 'N', ...spec.shape].forEach((dim, i) => {
    const size = t.shape[i];
    if (typeof dim === 'number') {
      if (size !== dim) fail(`${spec.name} has shape ${describe(t)}, expected ${formatTensorSpec(spec)} (dim ${i} must be ${dim})`);
      return;
    }
    const bound = sizes.get(dim);
    if (bound === undefined) sizes.set(dim, size);
    else if (bound !== size) fail(`${spec.name} has ${dim} = ${size} at dim ${i}, but another input has ${dim} = ${bound}`);
    const multiple = multipleOf[dim];
    if (multiple && size % multiple !== 0) fail(`${spec.name} has ${dim} = ${size}, which must be a multiple of ${multiple}`);
    if (size < 1) fail(`${spec.name} has an empty dim ${i} (${describe(t)})`);
  });
  if (isFloating(spec.dtype)) {
    if (!isFloating(t.dtype)) fail(`${spec.name} is ${t.dtype}, expected floating point values (${formatTensorSpec(spec)})`);
    return t;
  }
  if (isFloating(t.dtype)) fail(`${spec.name} is ${t.dtype}, expected integers (${formatTensorSpec(spec)})`);
  if (spec.range) {
    const [lo, hi] = spec.range;
    const min = amin(cast(t, 'int64')).item();
    const max = amax(cast(t, 'int64')).item();
    if (min < lo || max >= hi) fail(`${spec.name} has values in [${min}, ${max}], expected [${lo}, ${hi})`);
  }
  return cast(t, spec.dtype);
}

/** The inputs checked against a spec (and integer inputs cast to the spec's dtype), or an InputSpecError naming the spec. */
export function checkInputs(spec: ModelSpec, modelName: string, inputs: ReadonlyMap<string, Tensor>): NamedTensors {
  const fail = (why: string): never => {
    throw new InputSpecError(`${modelName}: ${why}; the model's ${formatSpec(spec)}`);
  };
  const known = new Set(spec.inputs.map((s) => s.name));
  const unknown = [...inputs.keys()].filter((name) => !known.has(name));
  if (unknown.length > 0) fail(`unknown input${unknown.length > 1 ? 's' : ''} ${unknown.map((n) => `'${n}'`).join(', ')}`);
  const sizes = new Map<string, number>();
  const checked: NamedTensors = new Map();
  for (const input of spec.inputs) {
    const t = inputs.get(input.name);
    if (!t) {
      if (!input.optional) fail(`missing input '${input.name}' (got ${[...inputs.keys()].map((k) => `'${k}'`).join(', ') || 'none'})`);
      continue;
    }
    checked.set(input.name, checkInput(input, t, sizes, spec.multipleOf ?? {}, fail));
  }
  return checked;
}

/** Runs a model's forward on named inputs (checked against its spec) and returns its named outputs, in eval mode without autograd. */
export function inferNamed(model: Model<Module>, inputs: ReadonlyMap<string, Tensor>): NamedTensors {
  const checked = checkInputs(model.spec, model.modelName, inputs);
  model.eval();
  return noGrad(() => model.entry.contract.forwardNamed(model, checked));
}
