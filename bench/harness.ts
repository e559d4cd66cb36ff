/**
 * Shared benchmark plumbing: median timings after warm-up, machine description, a results
 * table with tsvision / peer ratios, and CSV rows appended under bench/results/.
 */
import { spawn, spawnSync } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Iteration counts of one measurement. */
export interface Plan {
  warmup: number;
  iterations: number;
}

/** Runs fn and returns how long it took in milliseconds. */
export function timed(fn: () => void): number {
  const start = performance.now();
  fn();
  return performance.now() - start;
}

/** Runs fn and returns how long its promise took to settle, in milliseconds. */
export async function timedAsync(fn: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  await fn();
  return performance.now() - start;
}

/** Median of the values. */
export function median(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/** One timed run (sync or async); resolves to its duration in milliseconds. */
export type TimedRun = () => number | Promise<number>;

/**
 * Median duration in ms of each run, after plan.warmup untimed rounds. The runs take turns
 * sample by sample, so load from other processes on a shared machine hits them alike.
 */
export async function interleavedMedians(plan: Plan, runs: readonly TimedRun[]): Promise<number[]> {
  for (let i = 0; i < plan.warmup; ++i) for (const run of runs) await run();
  const times = runs.map((): number[] => []);
  for (let i = 0; i < plan.iterations; ++i) {
    for (let r = 0; r < runs.length; ++r) times[r].push(await runs[r]());
  }
  return times.map(median);
}

/**
 * How a model benchmark measures throughput (timm's benchmark.py method, fewer iterations):
 * `warmup` untimed steps, then timed steps, as many as fit in `budgetSeconds` at the last
 * warm-up step's pace, at least `minIterations` and at most `maxIterations`. A step slower than
 * the whole budget ends the warm-up, and the timed loop then runs only as many steps (at least
 * one) as fit in three budgets, so a very slow engine costs a few steps, not minIterations.
 */
export interface ThroughputPlan {
  warmup: number;
  minIterations: number;
  maxIterations: number;
  budgetSeconds: number;
}

/** Step times of a throughput measurement. */
export interface StepTimes {
  warmup: number;
  iterations: number;
  /** Wall time of the whole timed loop, in ms (images/s = iterations × batch / this). */
  totalMs: number;
  medianStepMs: number;
  meanStepMs: number;
}

/** Runs step plan.warmup times untimed, then the timed loop (see ThroughputPlan). */
export async function measureSteps(plan: ThroughputPlan, step: () => unknown): Promise<StepTimes> {
  const budgetMs = plan.budgetSeconds * 1000;
  let lastMs = 0;
  let warmup = 0;
  while (warmup < plan.warmup && lastMs < budgetMs) {
    lastMs = await timedAsync(async () => step());
    warmup += 1;
  }
  const fit = Math.floor(budgetMs / lastMs);
  const affordable = Math.max(1, Math.floor((3 * budgetMs) / lastMs));
  const iterations = Math.min(plan.maxIterations, Math.max(Math.min(plan.minIterations, affordable), fit));
  const steps: number[] = [];
  const start = performance.now();
  for (let i = 0; i < iterations; ++i) steps.push(await timedAsync(async () => step()));
  const totalMs = performance.now() - start;
  return { warmup, iterations, totalMs, medianStepMs: median(steps), meanStepMs: steps.reduce((a, b) => a + b, 0) / iterations };
}

/** The 1-minute load average, the figure to quote beside timings on a shared machine. */
export function loadAverage(): number {
  return os.loadavg()[0];
}

/** The package's root folder and version. */
export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const tsvisionVersion = (JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as { version: string }).version;

/** What the figures were measured on. */
export interface MachineInfo {
  cpu: string;
  cores: number;
  memoryGiB: number;
  platform: string;
  node: string;
}

export function machineInfo(): MachineInfo {
  return {
    cpu: os.cpus()[0]?.model.trim() ?? 'unknown',
    cores: os.availableParallelism(),
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    platform: `${os.platform()}-${os.arch()} ${os.release()}`,
    node: process.version,
  };
}

/** One measured figure of one implementation. */
export interface Measurement {
  /** What was run, e.g. 'matmul' or 'conv3x3 fwd'. */
  case: string;
  shape: string;
  dtype: string;
  /** 'tsvision' or a peer's name. */
  impl: string;
  implVersion: string;
  medianMs: number;
  /** The figure reported: GFLOP/s or images/s (higher is better), or µs per call (lower is better). */
  value: number;
  unit: 'GFLOP/s' | 'us/call' | 'img/s' | 'texts/s';
  iterations: number;
  /** Values of a benchmark's own CSV columns (see appendResults). */
  extra?: Record<string, string | number>;
}

/** A row of the printed table: a case, tsvision's figure and a peer's. */
export interface Comparison {
  case: string;
  shape: string;
  dtype: string;
  unit: Measurement['unit'];
  tsvision: Measurement | string;
  peer: Measurement | string;
}

function cell(m: Measurement | string): string {
  if (typeof m === 'string') return m;
  return m.unit === 'GFLOP/s' ? m.value.toFixed(1) : m.value.toFixed(2);
}

/** Prints comparisons as a fixed-width table; ratio = tsvision / peer of the unit's figure. */
export function printTable(peerName: string, rows: readonly Comparison[]): void {
  const header = ['case', 'shape', 'dtype', 'unit', 'tsvision', peerName, 'ratio'];
  const body = rows.map((r) => {
    const ratio = typeof r.tsvision === 'string' || typeof r.peer === 'string' ? '-' : (r.tsvision.value / r.peer.value).toFixed(2);
    return [r.case, r.shape, r.dtype, r.unit, cell(r.tsvision), cell(r.peer), ratio];
  });
  console.log(formatTable(header, body, 4));
}

/** A fixed-width text table: the first `leftColumns` columns left-aligned, the rest right-aligned; [] rows print as blank lines. */
export function formatTable(header: readonly string[], body: readonly (readonly string[])[], leftColumns: number): string {
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((row) => row[i]?.length ?? 0)));
  const line = (row: readonly string[]) =>
    row.length === 0 ? '' : row.map((c, i) => (i < leftColumns ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ').trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)].join('\n');
}

const CSV_COLUMNS = [
  'timestamp', 'bench', 'case', 'shape', 'dtype', 'impl', 'impl_version', 'median_ms', 'value', 'unit', 'iterations',
  'cpu', 'cores', 'memory_gib', 'platform', 'node',
] as const;

function csvField(v: string | number): string {
  const s = String(v);
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/**
 * Appends measurements to bench/results/<bench>-<date>.csv (header written when the file is new),
 * with the benchmark's own columns (from Measurement.extra) after the common ones; returns its path.
 */
export function appendResults(bench: string, measurements: readonly Measurement[], machine: MachineInfo, extraColumns: readonly string[] = []): string {
  const now = new Date();
  const dir = path.join(repoRoot, 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${bench}-${now.toISOString().slice(0, 10)}.csv`);
  const lines: string[] = [];
  if (!existsSync(file)) lines.push([...CSV_COLUMNS, ...extraColumns].join(','));
  for (const m of measurements) {
    const row: Record<(typeof CSV_COLUMNS)[number], string | number> = {
      timestamp: now.toISOString(), bench, case: m.case, shape: m.shape, dtype: m.dtype, impl: m.impl, impl_version: m.implVersion,
      median_ms: m.medianMs.toFixed(4), value: m.value.toFixed(3), unit: m.unit, iterations: m.iterations,
      cpu: machine.cpu, cores: machine.cores, memory_gib: machine.memoryGiB, platform: machine.platform, node: machine.node,
    };
    lines.push([...CSV_COLUMNS.map((c) => csvField(row[c])), ...extraColumns.map((c) => csvField(m.extra?.[c] ?? ''))].join(','));
  }
  appendFileSync(file, lines.join('\n') + '\n');
  return file;
}

/** Debian's interpreter, which sees python3-torch (a python3 earlier on PATH may not). */
export const PYTHON = '/usr/bin/python3';

/** Debian's torch with the model libraries it can import (timm from TIMM_PATH), or why it cannot be used. */
export type TorchPeer =
  | { ok: true; torch: string; timm: string | null; torchvision: string | null; blas: string }
  | { ok: false; reason: string };

/** Probes PYTHON for torch, timm (on TIMM_PATH, else timmPathDefault) and torchvision, and torch's BLAS. */
export function probeTorch(timmPathDefault = ''): TorchPeer {
  if (!existsSync(PYTHON)) return { ok: false, reason: `${PYTHON} not found` };
  const code = [
    'import importlib, json, os, sys',
    `sys.path.insert(0, os.environ.get("TIMM_PATH", ${JSON.stringify(timmPathDefault)}))`,
    'import torch',
    'def version(name):\n try:\n  return importlib.import_module(name).__version__\n except ImportError:\n  return None',
    'blas = "generic" if "BLAS_INFO=generic" in torch.__config__.show() else "vendor"',
    'print(json.dumps({"ok": True, "torch": torch.__version__, "timm": version("timm"), "torchvision": version("torchvision"), "blas": blas}))',
  ].join('\n');
  const r = spawnSync(PYTHON, ['-c', code], { encoding: 'utf8', timeout: 120_000 });
  const last = r.stdout?.trim().split('\n').pop();
  if (r.status === 0 && last) return JSON.parse(last) as TorchPeer;
  const why = r.stderr?.trim().split('\n').pop() ?? r.error?.message ?? `exit ${r.status}`;
  return { ok: false, reason: /No module named 'torch'/.test(why) ? `python3-torch is not installed for ${PYTHON}` : why };
}

/** What a finished child process left: its output, and how it ended. */
export interface ChildOutcome {
  stdout: string;
  stderr: string;
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Set when the child could not be started. */
  error: Error | null;
}

/** Runs a command in the repo root to completion, killed with SIGKILL after timeoutSeconds; never rejects. */
export function runChild(command: string, args: readonly string[], timeoutSeconds: number): Promise<ChildOutcome> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'], timeout: timeoutSeconds * 1000, killSignal: 'SIGKILL' });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d));
    child.stderr.on('data', (d: Buffer) => (stderr += d));
    child.on('error', (error) => resolve({ stdout, stderr, code: null, signal: null, error }));
    child.on('close', (code, signal) => resolve({ stdout, stderr, code, signal, error: null }));
  });
}

/** The JSON objects among a child's output lines, in order (other lines are skipped). */
export function jsonLines<T>(stdout: string): T[] {
  return stdout.trim().split('\n').flatMap((line): T[] => {
    try {
      return [JSON.parse(line) as T];
    } catch {
      return [];
    }
  });
}

/** Builds a registry model for a bench child, or says it is not registered yet (a 'pending' row). */
export async function buildBenchModel(
  name: string, numClasses: number,
): Promise<{ ok: true; model: import('../src/index.ts').Model } | { ok: false; status: 'pending'; reason: string }> {
  const T = await import('../src/index.ts');
  try {
    return { ok: true, model: T.buildModel(name, { numClasses }) };
  } catch (e) {
    if (e instanceof T.UnknownModelError) return { ok: false, status: 'pending', reason: `'${name}' is not registered yet` };
    throw e;
  }
}
