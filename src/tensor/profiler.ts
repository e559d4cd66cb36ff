/**
 * Per-op profiler: while a profile is running, every native kernel call is timed and counted
 * under its op name (with the op code spelled out for the multi-op kernels: 'binary.add',
 * 'eltwise.relu', 'reduce.sum'), optionally split by the shapes and dtypes of its tensor
 * arguments. Profiles nest: each running profile sees every call made while it runs. With no
 * profile running the addon's functions are called directly (see setNativeCallHook).
 */
import { ArgumentError } from '../errors.ts';
import { ALL_DTYPES, DTYPE_ID, type DType } from './dtype.ts';
import { setNativeCallHook } from './native.ts';
import { BINARY_OP } from './ops/elementwise.ts';
import { POOL_ALG } from './ops/pool.ts';
import { REDUCE_OP } from './ops/reduce.ts';
import { ELTWISE_ALG, MATH_OP } from './ops/unary.ts';

/** Options of a profile. */
export interface ProfileOptions {
  /** Also split each op by the shapes and dtypes of its tensor arguments (default false). */
  byShape?: boolean;
}

/** Totals of one op (or one op and argument signature) within a profile. */
export interface OpStat {
  op: string;
  calls: number;
  totalMs: number;
}

// Kernels whose first argument selects the operation; the code is named in the op label.
const OP_CODES: Record<string, Record<string, number>> = {
  binary: BINARY_OP,
  eltwise: ELTWISE_ALG,
  eltwiseBackward: ELTWISE_ALG,
  unaryMath: MATH_OP,
  reduce: REDUCE_OP,
  poolForward: POOL_ALG,
  poolBackward: POOL_ALG,
};
const CODE_NAMES = new Map(Object.entries(OP_CODES).map(([fn, codes]) => [fn, new Map(Object.entries(codes).map(([n, c]) => [c, n]))]));

const DTYPE_SHORT: Record<DType, string> = { float32: 'f32', bfloat16: 'bf16', int32: 'i32', int64: 'i64', uint8: 'u8', bool: 'bool' };
const DTYPE_BY_ID = new Map(ALL_DTYPES.map((d) => [DTYPE_ID[d], DTYPE_SHORT[d]]));

function opLabel(name: string, args: readonly unknown[]): string {
  const codes = CODE_NAMES.get(name);
  if (codes === undefined || typeof args[0] !== 'number') return name;
  return `${name}.${codes.get(args[0]) ?? args[0]}`;
}

// A NativeTensor's meta is [offset, dtypeId, ndim, ...shape, ...strides].
function signature(args: readonly unknown[]): string {
  const parts: string[] = [];
  for (const a of args) {
    const meta = (a as { meta?: unknown } | null)?.meta;
    if (!(meta instanceof Float64Array)) continue;
    const ndim = meta[2];
    parts.push(`${DTYPE_BY_ID.get(meta[1]) ?? '?'}[${Array.from(meta.subarray(3, 3 + ndim)).join(',')}]`);
  }
  return parts.join(' ');
}

const running = new Set<Profiler>();

function timedCall(name: string, fn: (...args: unknown[]) => unknown, args: unknown[]): unknown {
  const start = performance.now();
  try {
    return fn(...args);
  } finally {
    const ms = performance.now() - start;
    const label = opLabel(name, args);
    let shaped: string | undefined;
    for (const p of running) p.add(p.byShape ? (shaped ??= `${label} ${signature(args)}`) : label, ms);
  }
}

/** A running profile; stop() ends it and returns what it recorded. */
export class Profiler {
  readonly byShape: boolean;
  private readonly stats = new Map<string, OpStat>();
  private readonly startMs = performance.now();
  private report: ProfileReport | null = null;

  /** Starts recording native calls (prefer startProfile or profile). */
  constructor(options: ProfileOptions = {}) {
    this.byShape = options.byShape ?? false;
    running.add(this);
    if (running.size === 1) setNativeCallHook(timedCall);
  }

  /** Adds one call of op taking ms (called by the native hook). */
  add(op: string, ms: number): void {
    const s = this.stats.get(op);
    if (s) {
      s.calls += 1;
      s.totalMs += ms;
    } else {
      this.stats.set(op, { op, calls: 1, totalMs: ms });
    }
  }

  /** True until stop(). */
  get running(): boolean {
    return this.report === null;
  }

  /** Stops recording (idempotent) and returns the report. */
  stop(): ProfileReport {
    if (this.report) return this.report;
    running.delete(this);
    if (running.size === 0) setNativeCallHook(null);
    this.report = new ProfileReport([...this.stats.values()].map((s) => ({ ...s })), performance.now() - this.startMs);
    return this.report;
  }
}

/** What a profile recorded: per-op totals, sorted by total time, and the profile's wall time. */
export class ProfileReport {
  /** Ops by total time, longest first. */
  readonly ops: readonly OpStat[];
  /** Time spent inside native calls, in ms. */
  readonly nativeMs: number;

  constructor(ops: OpStat[], readonly wallMs: number) {
    this.ops = ops.sort((a, b) => b.totalMs - a.totalMs || a.op.localeCompare(b.op));
    this.nativeMs = ops.reduce((sum, s) => sum + s.totalMs, 0);
  }

  /** Number of native calls recorded. */
  get calls(): number {
    return this.ops.reduce((sum, s) => sum + s.calls, 0);
  }

  /** The stats of one op label, if it was called. */
  get(op: string): OpStat | undefined {
    return this.ops.find((s) => s.op === op);
  }

  /** A fixed-width table of the top ops (all by default), with totals and time outside native calls. */
  format(options: { top?: number } = {}): string {
    const top = options.top ?? this.ops.length;
    if (!Number.isInteger(top) || top < 0) throw new ArgumentError(`ProfileReport.format: top must be a non-negative integer, got ${top}`);
    const pct = (ms: number) => (this.wallMs > 0 ? ((100 * ms) / this.wallMs).toFixed(1) : '-');
    const row = (op: string, calls: number | string, ms: number) =>
      [op, String(calls), ms.toFixed(3), typeof calls === 'number' && calls > 0 ? ((1000 * ms) / calls).toFixed(1) : '', pct(ms)];
    const shown = this.ops.slice(0, top);
    const rest = this.ops.slice(top);
    const body = shown.map((s) => row(s.op, s.calls, s.totalMs));
    if (rest.length > 0) body.push(row(`(${rest.length} more ops)`, rest.reduce((n, s) => n + s.calls, 0), rest.reduce((t, s) => t + s.totalMs, 0)));
    const totals = [
      row('native calls, total', this.calls, this.nativeMs),
      row('outside native calls (JS, allocation, GC)', '', Math.max(0, this.wallMs - this.nativeMs)),
      row('wall', '', this.wallMs),
    ];
    const header = ['op', 'calls', 'total ms', 'mean us', '% wall'];
    const widths = header.map((h, i) => Math.max(h.length, ...[...body, ...totals].map((r) => r[i].length)));
    const line = (r: string[]) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
    const rule = widths.map((w) => '-'.repeat(w)).join('  ');
    return [line(header), rule, ...body.map(line), rule, ...totals.map(line)].join('\n');
  }
}

/** Starts a profile of every native call until its stop(). */
export function startProfile(options: ProfileOptions = {}): Profiler {
  return new Profiler(options);
}

/** True while at least one profile is running. */
export function isProfiling(): boolean {
  return running.size > 0;
}

/** Runs synchronous fn under a profile and returns its result with the report; the profile stops also when fn throws. */
export function profile<R>(fn: () => R, options: ProfileOptions = {}): { result: R; report: ProfileReport } {
  const profiler = startProfile(options);
  try {
    const result = fn();
    return { result, report: profiler.stop() };
  } finally {
    profiler.stop();
  }
}
