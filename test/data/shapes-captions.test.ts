import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as T from '../../src/index.ts';
import { CAPTION_COLOURS, CAPTION_SHAPES, heldOutPairs, shapesCaptions, shapesZeroShot } from '../../src/data/datasets/shapes-captions.ts';

const CAPTION = new RegExp(`^a (?:(small|large) )?(${Object.keys(CAPTION_COLOURS).join('|')}) (${CAPTION_SHAPES.join('|')})(?: (above|below|to the left of|to the right of) a (?:(small|large) )?(\\w+) (\\w+))?$`);

test('shapes-captions: captions name one shape for even indices and two with a relation for odd ones', () => {
  const d = shapesCaptions({ length: 40, size: 32 });
  for (let i = 0; i < d.length; i++) {
    const { image, caption } = d.get(i);
    assert.deepEqual([...image.shape], [32, 32, 3]);
    assert.equal(image.dtype, 'uint8');
    const m = CAPTION.exec(caption);
    assert.ok(m, `caption '${caption}' does not parse`);
    assert.equal(m[4] !== undefined, i % 2 === 1, `sample ${i}: '${caption}'`);
  }
});

test('shapes-captions: a sample is a pure function of (seed, split, index)', () => {
  const a = shapesCaptions({ length: 4, seed: 3 }).get(3);
  const b = shapesCaptions({ length: 9, seed: 3 }).get(3);
  const other = shapesCaptions({ length: 4, seed: 3, split: 'val' }).get(3);
  assert.equal(a.caption, b.caption);
  assert.deepEqual(a.image.toArray(), b.image.toArray());
  assert.notDeepEqual(a.image.toArray(), other.image.toArray());
});

test('shapes-captions: the named colour is the colour of the shape pixels', () => {
  const d = shapesCaptions({ length: 24, size: 48 });
  for (let i = 0; i < d.length; i += 2) {
    const { image, caption } = d.get(i);
    const colour = CAPTION.exec(caption)![2] as keyof typeof CAPTION_COLOURS;
    const px = image.toArray() as Uint8Array;
    // Shape pixels are the bright ones: the background stays under 0.2 + noise in every channel,
    // while every named colour has a channel of 0.88 or more.
    const sum = [0, 0, 0];
    let count = 0;
    for (let p = 0; p < px.length; p += 3) {
      if (Math.max(px[p], px[p + 1], px[p + 2]) < 0.6 * 255) continue;
      for (let k = 0; k < 3; k++) sum[k] += px[p + k] / 255;
      count++;
    }
    assert.ok(count > 20, `sample ${i}: only ${count} shape pixels`);
    const rgb = sum.map((v) => v / count);
    const dist = (c: readonly number[]) => Math.hypot(...c.map((v, k) => v - rgb[k]));
    const nearest = Object.entries(CAPTION_COLOURS).sort((x, y) => dist(x[1]) - dist(y[1]))[0][0];
    assert.equal(nearest, colour, `sample ${i} '${caption}' centre ${rgb.map((v) => v.toFixed(2))}`);
  }
});

test('shapes-captions: held-out colour-shape pairs never appear in captions; the zero-shot set asks for them', () => {
  const held = heldOutPairs(4).map(([c, s]) => `${c} ${s}`);
  assert.equal(new Set(held.map((p) => p.split(' ')[0])).size, 4);
  assert.equal(new Set(held.map((p) => p.split(' ')[1])).size, 4);
  const d = shapesCaptions({ length: 600, size: 16, heldOutPairs: 4 });
  for (let i = 0; i < d.length; i++) {
    const caption = d.get(i).caption.replace(/(small|large) /g, '');
    for (const p of held) assert.ok(!caption.includes(`a ${p}`), `'${caption}' names held-out '${p}'`);
  }
  const z = shapesZeroShot({ heldOutPairs: 4, classes: 'held-out', length: 8 });
  assert.deepEqual(z.classes, held);
  assert.deepEqual(Array.from({ length: 8 }, (_, i) => (z.get(i) as T.Sample).label), [0, 1, 2, 3, 0, 1, 2, 3]);
  assert.equal(shapesZeroShot().classes.length, 64);
});

test('shapes-captions: bad options are typed errors naming the allowed values', () => {
  assert.throws(() => shapesCaptions({ size: 8 }), (e: unknown) => e instanceof T.ArgumentError && /size must be an integer in \[16, 4096\], got 8/.test(e.message));
  assert.throws(() => shapesCaptions({ heldOutPairs: 9 }), (e: unknown) => e instanceof T.ArgumentError && /heldOutPairs must be an integer in \[0, 8\], got 9/.test(e.message));
  assert.throws(() => shapesCaptions({ split: 'dev' as never }), (e: unknown) => e instanceof T.ArgumentError && /train, val or test, got 'dev'/.test(e.message));
  assert.throws(() => shapesZeroShot({ classes: 'held-out' }), (e: unknown) => e instanceof T.ArgumentError && /heldOutPairs >= 2, got 0/.test(e.message));
  assert.throws(() => shapesCaptions({ length: 2 }).get(2), (e: unknown) => e instanceof T.ArgumentError && /index 2 is out of range/.test(e.message));
});
