/**
 * Typed errors. Every error tsvision throws is a TsvisionError with a stable `code`,
 * and a message that names the op or file, what was expected and what came.
 */

/** Base class of every error tsvision throws; `code` is stable across versions. */
export class TsvisionError extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.code = code;
    this.name = new.target.name;
  }
}

/** Tensor shapes that do not fit an op (mismatched, not broadcastable, wrong rank). */
export class ShapeError extends TsvisionError {
  constructor(message: string) {
    super('E_SHAPE', message);
  }
}

/** A dtype an op does not accept, or two dtypes that do not combine. */
export class DTypeError extends TsvisionError {
  constructor(message: string) {
    super('E_DTYPE', message);
  }
}

/** A dim or index outside its range. */
export class IndexError extends TsvisionError {
  constructor(message: string) {
    super('E_INDEX', message);
  }
}

/** An argument of the wrong kind or value (a negative size, an unknown mode name). */
export class ArgumentError extends TsvisionError {
  constructor(message: string) {
    super('E_ARGUMENT', message);
  }
}

/** Misuse of autograd: backward on a tensor without grad, through a freed graph, ... */
export class AutogradError extends TsvisionError {
  constructor(message: string) {
    super('E_AUTOGRAD', message);
  }
}

/** Use of a tensor after `dispose()` released its storage. */
export class DisposedError extends TsvisionError {
  constructor(message: string) {
    super('E_DISPOSED', message);
  }
}

/** An error raised inside the native addon (oneDNN or a kernel); the message starts with `[op]`. */
export class NativeError extends TsvisionError {
  constructor(message: string) {
    super('E_NATIVE', message);
  }
}

/** A tokenizer vocabulary file that is missing, unreadable or malformed; `file` names it. */
export class VocabularyError extends TsvisionError {
  readonly file: string;
  constructor(file: string, message: string) {
    super('E_VOCAB', `${file}: ${message}`);
    this.file = file;
  }
}

/** An image index (tsvision index) that is missing, unreadable or not an image index; `index` names its folder. */
export class ImageIndexError extends TsvisionError {
  readonly index: string;
  constructor(index: string, message: string) {
    super('E_IMAGE_INDEX', `${index}: ${message}`);
    this.index = index;
  }
}

/** A model, or an embedding, that is not the one an image index was built with: both are named. */
export class IndexMismatchError extends TsvisionError {
  readonly index: string;
  readonly expected: string;
  readonly got: string;
  constructor(index: string, what: string, expected: string, got: string) {
    super('E_INDEX_MISMATCH', `${index}: the index was built with ${what} ${expected}, got ${got}`);
    this.index = index;
    this.expected = expected;
    this.got = got;
  }
}

/** One key whose checkpoint shape differs from the module's. */
export interface StateDictShapeMismatch {
  key: string;
  checkpointShape: readonly number[];
  modelShape: readonly number[];
}

/**
 * A state dict that does not fit a module (Module.loadStateDict): every missing key,
 * unexpected key and shape mismatch is listed in the message and in the fields.
 */
export class StateDictError extends TsvisionError {
  readonly missingKeys: readonly string[];
  readonly unexpectedKeys: readonly string[];
  readonly mismatchedKeys: readonly StateDictShapeMismatch[];
  constructor(
    message: string,
    details: { missingKeys: readonly string[]; unexpectedKeys: readonly string[]; mismatchedKeys: readonly StateDictShapeMismatch[] },
  ) {
    super('E_STATE_DICT', message);
    this.missingKeys = details.missingKeys;
    this.unexpectedKeys = details.unexpectedKeys;
    this.mismatchedKeys = details.mismatchedKeys;
  }

  /** The first few mismatched, missing and unexpected keys in one line, for errors that wrap this one. */
  summary(limit = 3): string {
    const first = (keys: readonly string[]) => keys.slice(0, limit).join(', ') + (keys.length > limit ? `, … (${keys.length} in all)` : '');
    const parts: string[] = [];
    if (this.mismatchedKeys.length) parts.push(`shape mismatch ${first(this.mismatchedKeys.map((m) => `${m.key} ${formatShape(m.checkpointShape)} vs model ${formatShape(m.modelShape)}`))}`);
    if (this.missingKeys.length) parts.push(`missing ${first(this.missingKeys)}`);
    if (this.unexpectedKeys.length) parts.push(`unexpected ${first(this.unexpectedKeys)}`);
    return parts.join('; ');
  }
}

/** A shape as messages print it: [2, 3, 224, 224]. */
export function formatShape(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}
