/** Activation modules (torch.nn.ReLU, GELU, SiLU, ...): thin wrappers over src/tensor/ops/activation.ts. */
import { ArgumentError } from '../../errors.ts';
import { gelu, leakyRelu, quickGelu, relu, sigmoid, silu, softmax, tanh } from '../../tensor/ops/activation.ts';
import type { Tensor } from '../../tensor/tensor.ts';
import { Module } from '../module.ts';

/** max(x, 0) */
export class ReLU extends Module {
  override forward(x: Tensor): Tensor {
    return relu(x);
  }
}

/** x for x > 0, negativeSlope·x otherwise. */
export class LeakyReLU extends Module {
  readonly negativeSlope: number;

  constructor(negativeSlope = 0.01) {
    super();
    this.negativeSlope = negativeSlope;
  }

  override forward(x: Tensor): Tensor {
    return leakyRelu(x, this.negativeSlope);
  }

  override extraRepr(): string {
    return `negative_slope=${this.negativeSlope}`;
  }
}

/** GELU, exact (erf) or with the tanh approximation. */
export class GELU extends Module {
  readonly approximate: 'none' | 'tanh';

  constructor(options: { approximate?: 'none' | 'tanh' } = {}) {
    super();
    const approximate = options.approximate ?? 'none';
    if (approximate !== 'none' && approximate !== 'tanh') throw new ArgumentError(`GELU: approximate must be 'none' or 'tanh', got '${String(approximate)}'`);
    this.approximate = approximate;
  }

  override forward(x: Tensor): Tensor {
    return gelu(x, this.approximate);
  }

  override extraRepr(): string {
    return `approximate='${this.approximate}'`;
  }
}

/** x·sigmoid(1.702x), the GELU approximation of OpenAI CLIP. */
export class QuickGELU extends Module {
  override forward(x: Tensor): Tensor {
    return quickGelu(x);
  }
}

/** x·sigmoid(x) (swish). */
export class SiLU extends Module {
  override forward(x: Tensor): Tensor {
    return silu(x);
  }
}

/** 1/(1+e⁻ˣ) */
export class Sigmoid extends Module {
  override forward(x: Tensor): Tensor {
    return sigmoid(x);
  }
}

/** tanh x */
export class Tanh extends Module {
  override forward(x: Tensor): Tensor {
    return tanh(x);
  }
}

/** Softmax along a dim. */
export class Softmax extends Module {
  readonly dim: number;

  constructor(dim: number) {
    super();
    if (!Number.isInteger(dim)) throw new ArgumentError(`Softmax: dim must be an integer, got ${dim}`);
    this.dim = dim;
  }

  override forward(x: Tensor): Tensor {
    return softmax(x, this.dim);
  }

  override extraRepr(): string {
    return `dim=${this.dim}`;
  }
}
