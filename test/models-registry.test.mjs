// The architecture registry (src/models/registry.ts): names accepted case-insensitively and
// printed one way, unknown names refused naming the flag, the small-input rule, what a state
// dict fixes (MobileNetV2's width), and which architectures split for CAM.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import lib from './helpers/lib.mjs';

const { models, viz } = lib;

test('names: one printed form, any case and torchvision spelling accepted', () => {
  assert.equal([...models.ARCHS], ['lenet5', 'resnet18', 'resnet34', 'mobilenetv2', 'mlp']);
  for (const [given, name] of [['MobileNetV2', 'mobilenetv2'], ['mobilenetV2', 'mobilenetv2'], ['mobilenet_v2', 'mobilenetv2'], ['ResNet18', 'resnet18'], ['LENET5', 'lenet5'], ['mlp', 'mlp']]) {
    assert.is(models.archSpec(given).name, name, given);
  }
  assert.is(models.findArch('vgg16'), undefined);
  assert.throws(() => models.archSpec('vgg16', 'focusnet train: --arch'), (e) => e instanceof lib.InputError && e instanceof models.ArchError &&
    /^focusnet train: --arch vgg16: unknown architecture \(one of lenet5, resnet18, resnet34, mobilenetv2, mlp\)$/.test(e.message));
  assert.equal([...models.CAM_ARCHS], ['lenet5', 'resnet18', 'resnet34', 'mobilenetv2']);
  assert.equal([...viz.ARCHS], [...models.CAM_ARCHS], 'cam lists the registry\'s names');
  // train and cam resolve names through the same registry
  assert.is(lib.train.ARCHS, models.ARCHS);
  assert.is(viz.checkCamArch('MobileNet_V2').name, 'mobilenetv2');
  assert.throws(() => viz.checkCamArch('mlp'), /--arch mlp: an MLP has no convolutional feature maps/);
  assert.throws(() => viz.checkCamArch('vgg16', '--baseline-arch'), /--baseline-arch vgg16: unknown architecture \(one of lenet5, resnet18, resnet34, mobilenetv2\)/);
});

test('the small-input rule: ResNet stem and MobileNetV2 strides and width follow the image side', () => {
  assert.ok(models.smallInputFor(32) && models.smallInputFor(64) && !models.smallInputFor(65));
  const shape = (m, k) => m.stateDict()[k].shape;
  const small = models.createModel('ResNet18', { numClasses: 7, inChannels: 1, imageSize: 32 });
  assert.ok(small instanceof models.ResNet);
  assert.equal(shape(small, 'conv1.weight'), [64, 1, 3, 3]);
  assert.is(small.maxpool, null);
  assert.equal(shape(small, 'fc.weight'), [7, 512]);
  small.dispose();
  const large = models.createModel('resnet18', { numClasses: 3, inChannels: 3, imageSize: 96 });
  assert.equal(shape(large, 'conv1.weight'), [64, 3, 7, 7]);
  assert.ok(large.maxpool !== null);
  large.dispose();
  // MobileNetV2: ×0.5 (stem 16 channels) for small inputs, ×1 (32) otherwise, unless a width is given
  for (const [imageSize, widthMult, stem] of [[32, undefined, 16], [96, undefined, 32], [32, 0.25, 8], [32, 0.35, 16]]) {
    const m = models.createModel('mobilenetv2', { numClasses: 5, inChannels: 3, imageSize, widthMult });
    assert.equal(shape(m, 'features.0.0.weight'), [stem, 3, 3, 3], `image ${imageSize}, width ${widthMult}`);
    // the file's shapes give the width back (×0.35 and ×0.5 share the stem's 16 channels)
    const shapes = Object.fromEntries(Object.entries(m.stateDict()).map(([k, t]) => [k, t.shape]));
    assert.equal(models.archSpec('mobilenetv2').fromStateDict(shapes), { widthMult: widthMult ?? (imageSize <= 64 ? 0.5 : 1) });
    m.dispose();
  }
  assert.throws(() => models.createModel('lenet5', { numClasses: 10, inChannels: 1, imageSize: 8 }), /lenet5 takes 28×28 images .* the data has 8×8/);
  const mlp = models.createModel('mlp', { numClasses: 4, inChannels: 2, imageSize: 3, seed: 1 });
  assert.equal(shape(mlp, 'fc1.weight'), [64, 18]);
  assert.equal(shape(mlp, models.archSpec('mlp').classifier), [4, 64]);
  assert.throws(() => models.splitModel('mlp', mlp), /cannot split a Mlp as mlp: it has no convolutional feature maps/);
  assert.throws(() => models.splitModel('lenet5', mlp), /cannot split a Mlp as lenet5/);
  mlp.dispose();
});

test('seeded builds: the same seed gives the same weights, another seed others', async () => {
  const o = { numClasses: 10, inChannels: 1, imageSize: 28 };
  const [a, b, c] = [1, 1, 2].map((seed) => models.createModel('lenet5', { ...o, seed }));
  const [wa, wb, wc] = await Promise.all([a, b, c].map((m) => m.stateDict()['conv1.weight'].read()));
  assert.equal([...wa], [...wb]);
  assert.ok(wa.some((v, i) => v !== wc[i]));
  assert.ok(wa.some((v) => v !== 0));
  [a, b, c].forEach((m) => m.dispose());
});

test.run();
