/**
 * The Winograd choice per conv and per model (ConvOptions.winograd, Conv2d.winograd, buildModel's
 * convWinograd) overrides the process setting (configure's convWinograd) for that conv alone.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import * as T from '../../src/index.ts';
import { nn } from '../../src/index.ts';

const processSetting = T.getConfiguration().convWinograd;
after(() => T.configure({ convWinograd: processSetting }));

const maxAbs = (a: T.Tensor, b: T.Tensor) => T.amax(T.abs(T.sub(T.contiguous(a), T.contiguous(b)))).item();
const g = new T.Generator(5);
// 16 tiles of 4×4 outputs, channels a multiple of 8, channels-last f32: a conv the Winograd kernel takes.
const x = T.toChannelsLast(T.randn([1, 16, 16, 16], { generator: g }));
const w = T.randn([16, 16, 3, 3], { generator: g });

test('ConvOptions.winograd overrides the process setting for one call; the results agree to float rounding', () => {
  T.configure({ convWinograd: false });
  const direct = T.noGrad(() => T.conv2d(x, w, null, { padding: 1 }));
  const winograd = T.noGrad(() => T.conv2d(x, w, null, { padding: 1, winograd: 'always' }));
  const scale = T.amax(T.abs(direct)).item();
  assert.ok(maxAbs(direct, winograd) > 0, 'the Winograd kernel ran (its rounding differs from the direct kernel\'s)');
  assert.ok(maxAbs(direct, winograd) <= 1e-4 * scale, `within 1e-4 of the output's scale: ${maxAbs(direct, winograd)}`);
  T.configure({ convWinograd: 'always' });
  assert.equal(maxAbs(T.noGrad(() => T.conv2d(x, w, null, { padding: 1, winograd: false })), direct), 0, 'false: the direct kernel though the process says always');
  assert.equal(maxAbs(T.noGrad(() => T.conv2d(x, w, null, { padding: 1 })), winograd), 0, 'absent: the process setting');
});

test('a Conv2d\'s winograd and buildModel\'s convWinograd set the choice for those convs, fused with BN or not', () => {
  T.configure({ convWinograd: false });
  const conv = new nn.Conv2d(16, 16, 3, { padding: 1, bias: false });
  conv.weight.copy_(w);
  const direct = T.noGrad(() => conv.forward(x));
  conv.winograd = 'always';
  assert.ok(maxAbs(T.noGrad(() => conv.forward(x)), direct) > 0, 'Conv2d.winograd');
  const bn = new nn.BatchNorm2d(16).eval();
  const fusedWinograd = T.noGrad(() => nn.convBnAct(conv, bn, x, { relu: true }));
  conv.winograd = null;
  assert.ok(maxAbs(T.noGrad(() => nn.convBnAct(conv, bn, x, { relu: true })), fusedWinograd) > 0, 'convBnAct follows the conv');
  const model = T.buildModel<T.ResNet>('resnet18', { convWinograd: 'always' });
  assert.ok(model.modules().filter((m) => m instanceof nn.Conv2d).every((m) => (m as nn.Conv2d).winograd === 'always'));
  assert.equal(T.buildModel<T.ResNet>('resnet18').conv1.winograd, null, 'the process setting by default');
});
