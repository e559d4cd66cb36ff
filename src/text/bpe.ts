/**
 * The BPE merge loop of GPT-2/CLIP in O(n log n) for a word of n symbols. The reference
 * repeatedly takes the adjacent pair of lowest merge rank and merges every non-overlapping
 * occurrence of it, left to right, in one pass: O(n²) on a long word. Here the symbols form a
 * linked list and every adjacent pair sits in a min-heap keyed by (rank, position); all entries of
 * the lowest rank are taken at once and merged in position order (a greedy left-to-right scan, as
 * the reference's), and the pairs they create enter the heap only after that pass, as the
 * reference only sees them on its next pass. Entries made stale by a merge are skipped when popped.
 */

/** The merge rules: `rank(a, b)` is the rank of merging adjacent symbols a and b, undefined when none. */
export interface MergeRanks {
  rank(left: string, right: string): number | undefined;
  /** The pair merged at a rank. */
  pair(rank: number): readonly [string, string];
}

// Heap keys pack (rank, position) into one exact double: positions stay below 2^32 (JS strings
// hold under 2^30 code units) and ranks below 2^21.
const POSITION_SPAN = 2 ** 32;

class KeyHeap {
  private readonly keys: number[] = [];

  get size(): number {
    return this.keys.length;
  }

  peek(): number {
    return this.keys[0];
  }

  push(key: number): void {
    const keys = this.keys;
    let i = keys.length;
    keys.push(key);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (keys[parent] <= key) break;
      keys[i] = keys[parent];
      i = parent;
    }
    keys[i] = key;
  }

  pop(): number {
    const keys = this.keys;
    const top = keys[0];
    const last = keys.pop()!;
    if (keys.length === 0) return top;
    let i = 0;
    for (;;) {
      let child = 2 * i + 1;
      if (child >= keys.length) break;
      if (child + 1 < keys.length && keys[child + 1] < keys[child]) ++child;
      if (keys[child] >= last) break;
      keys[i] = keys[child];
      i = child;
    }
    keys[i] = last;
    return top;
  }
}

/** Applies BPE merges to a word's symbols and returns the merged symbols, as the reference's loop would. */
export function bpeMerge(symbols: readonly string[], ranks: MergeRanks): string[] {
  const n = symbols.length;
  if (n < 2) return [...symbols];
  const sym = [...symbols];
  const next = new Int32Array(n);
  const prev = new Int32Array(n);
  const alive = new Uint8Array(n).fill(1);
  for (let i = 0; i < n; ++i) {
    next[i] = i + 1 < n ? i + 1 : -1;
    prev[i] = i - 1;
  }
  const heap = new KeyHeap();
  const pushPair = (left: number) => {
    const right = next[left];
    if (right < 0) return;
    const r = ranks.rank(sym[left], sym[right]);
    if (r !== undefined) heap.push(r * POSITION_SPAN + left);
  };
  for (let i = 0; i + 1 < n; ++i) pushPair(i);
  const merged: number[] = [];
  while (heap.size > 0) {
    const rank = Math.floor(heap.peek() / POSITION_SPAN);
    const [first, second] = ranks.pair(rank);
    merged.length = 0;
    while (heap.size > 0 && Math.floor(heap.peek() / POSITION_SPAN) === rank) {
      const left = heap.pop() - rank * POSITION_SPAN;
      const right = next[left];
      if (!alive[left] || right < 0 || sym[left] !== first || sym[right] !== second) continue;
      sym[left] = first + second;
      alive[right] = 0;
      next[left] = next[right];
      if (next[right] >= 0) prev[next[right]] = left;
      merged.push(left);
    }
    for (const left of merged) {
      if (prev[left] >= 0) pushPair(prev[left]);
      pushPair(left);
    }
  }
  const out: string[] = [];
  for (let i = 0; i >= 0; i = next[i]) out.push(sym[i]);
  return out;
}
