// Every matmul variant (rb, sg where the device has subgroups, tiled) and every transpose
// combination against a float64 reference on awkward shapes (edges of every tile size,
// K not a multiple of the unroll, batch and broadcast), with the bias + activation epilogue
// (relu, relu6); the grid-limit fallback; autotune table and the variant switch. Every product
// checks (gpu().onDispatch labels) that exactly the kernels of its path ran: rb4 where the
// shape is vec4-aligned, else rb; sg after a transpose of each operand not in its layout.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { tensor, ops, tuning, internal, gpu } from './helpers/lib.mjs';
import { rng, assertClose, size } from './helpers/ref.mjs';

const variants = tuning.availableMatmulVariants();
const ACT = { none: (v) => v, relu: (v) => Math.max(v, 0), relu6: (v) => Math.min(Math.max(v, 0), 6) };

/** The labels of the dispatches one product of `variant` issues (k > 0, grid within limits). */
function expectedKernels(variant, { m, n, k, ta, tb }) {
  if (variant === 'rb') return [k % 4 === 0 && (!ta || m % 4 === 0) && (tb || n % 4 === 0) ? 'matmul(rb4)' : 'matmul(rb)'];
  if (variant === 'sg') return [...(ta ? [] : ['matmul(transpose)']), ...(tb ? ['matmul(transpose)'] : []), 'matmul(sg)'];
  return ['matmul(tiled)'];
}

/** float64 C[b] = act(op(A[b])·op(B[b]) (+bias)); A/B given in stored layout. */
function refMatmul(a, b, { bm, m, n, k, ta, tb, batchA, batchB, bias, act }) {
  const c = new Float64Array(bm * m * n);
  for (let z = 0; z < bm; z++) {
    const oa = batchA === 1 ? 0 : z * m * k;
    const ob = batchB === 1 ? 0 : z * k * n;
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let p = 0; p < k; p++) {
          const x = ta ? a[oa + p * m + i] : a[oa + i * k + p];
          const y = tb ? b[ob + j * k + p] : b[ob + p * n + j];
          s += x * y;
        }
        if (bias) s += bias[j];
        c[z * m * n + i * n + j] = ACT[act](s);
      }
    }
  }
  return c;
}

/**
 * One product against the float64 reference, and the kernels it dispatched against `kernels`
 * (default: expectedKernels of `variant`, or of the variant matmulRaw picks when it is undefined).
 * `scale` widens A's range (relu6 needs outputs past 6).
 */
async function check(variant, { m, n, k, ta = false, tb = false, batchA = 0, batchB = 0, withBias = false, act = 'none', scale = 1, seed = 1, kernels }) {
  const r = rng(seed);
  const aShape = ta ? [k, m] : [m, k];
  const bShape = tb ? [n, k] : [k, n];
  const fa = batchA ? [batchA, ...aShape] : aShape;
  const fb = batchB ? [batchB, ...bShape] : bShape;
  const ah = r.uniform(size(fa), -scale, scale);
  const bh = r.uniform(size(fb));
  const biash = withBias ? r.uniform(n) : null;
  const bm = Math.max(batchA || 1, batchB || 1);
  const ref = { bm, m, n, k, ta, tb, batchA: batchA || 1, batchB: batchB || 1, bias: biash };
  const expected = refMatmul(ah, bh, { ...ref, act });
  if (act === 'relu6') {
    const pre = refMatmul(ah, bh, { ...ref, act: 'none' });
    assert.ok(pre.some((v) => v < 0) && pre.some((v) => v > 6), `${variant}: relu6 inputs on both sides of its clamps`);
  }
  const a = tensor(Float32Array.from(ah), fa);
  const b = tensor(Float32Array.from(bh), fb);
  const bias = biash ? tensor(Float32Array.from(biash), [n]) : null;
  const want = kernels ?? expectedKernels(variant ?? tuning.matmulVariant(m, n, k), { m, n, k, ta, tb });
  const labels = [];
  const prev = gpu().onDispatch;
  gpu().onDispatch = (l) => labels.push(l);
  let c;
  try {
    c = internal.matmulRaw(a, b, { transA: ta, transB: tb, bias, act, variant });
  } finally {
    gpu().onDispatch = prev;
  }
  const wantShape = batchA || batchB ? [bm, m, n] : [m, n];
  const got = await c.read();
  for (const t of [a, b, bias, c]) t?.dispose();
  const what = `${variant} ${batchA ? batchA + '×' : ''}${aShape}${ta ? 'ᵀ' : ''} · ${batchB ? batchB + '×' : ''}${bShape}${tb ? 'ᵀ' : ''}${withBias ? ' +bias' : ''} act=${act}`;
  assert.equal(labels, want, `${what}: kernels`);
  assert.equal(c.shape, wantShape, `${variant} shape`);
  assertClose(got, expected, { rtol: 1e-4, atol: 2e-5 * Math.sqrt(k + 1), what });
}

const shapes = [
  { m: 1, n: 1, k: 1 },
  { m: 37, n: 19, k: 61 },
  { m: 65, n: 130, k: 3 },
  { m: 17, n: 33, k: 70 },
  { m: 5, n: 7, k: 1 },
  // multiples of 4 where rb reads vec4s (fully, or only when A is not transposed)
  { m: 12, n: 20, k: 16 },
  { m: 37, n: 24, k: 8 },
];

for (const v of variants) {
  test(`matmul ${v}: every transpose combination on awkward shapes`, async () => {
    for (const s of shapes) {
      for (const ta of [false, true]) for (const tb of [false, true]) await check(v, { ...s, ta, tb, seed: s.m * 7 + s.k });
    }
  });

  test(`matmul ${v}: batched 3×33×17 · 17×9, broadcasts, transposed`, async () => {
    await check(v, { m: 33, n: 9, k: 17, batchA: 3, batchB: 3 });
    await check(v, { m: 33, n: 9, k: 17, batchA: 3, batchB: 0, tb: true });
    await check(v, { m: 33, n: 9, k: 17, batchA: 0, batchB: 3, ta: true });
    await check(v, { m: 33, n: 9, k: 17, batchA: 3, batchB: 3, ta: true, tb: true });
    await check(v, { m: 8, n: 12, k: 4, batchA: 3, batchB: 3, ta: true });
    await check(v, { m: 8, n: 12, k: 4, batchA: 0, batchB: 3, tb: true });
  });

  test(`matmul ${v}: bias + relu / relu6 epilogue`, async () => {
    await check(v, { m: 37, n: 19, k: 61, withBias: true, act: 'relu' });
    await check(v, { m: 37, n: 19, k: 61, withBias: true, tb: true });
    await check(v, { m: 20, n: 45, k: 9, act: 'relu', ta: true });
    await check(v, { m: 9, n: 21, k: 13, batchA: 2, batchB: 2, withBias: true, act: 'relu', ta: true, tb: true });
    await check(v, { m: 37, n: 19, k: 61, withBias: true, act: 'relu6', scale: 3 });
    await check(v, { m: 20, n: 44, k: 12, act: 'relu6', scale: 4, ta: true });
    await check(v, { m: 9, n: 21, k: 13, batchA: 2, batchB: 0, withBias: true, act: 'relu6', scale: 5, tb: true });
  });
}

test('matmul: a product whose transpose pass would exceed the grid limit still runs (falls back)', async () => {
  // 2,100,000 rows: sg's transpose of A would need 65,625 workgroups in one dimension, and so
  // would rb's 32-row tiles; tiled's 64-row tiles need 32,813 (on the usual limit of 65,535)
  const lim = gpu().limits.maxComputeWorkgroupsPerDimension;
  const shape = { m: 2100000, n: 2, k: 1, ta: false, tb: false };
  const kernels = lim < Math.ceil(shape.m / 32) ? ['matmul(tiled)'] : expectedKernels('sg', shape);
  if (variants.includes('sg')) await check('sg', { ...shape, withBias: true, seed: 5, kernels });
});

test('matmul: variants list, default per adapter, forcing and unknown names', async () => {
  assert.ok(variants.includes('rb') && variants.includes('tiled'), `variants ${variants}`);
  const d = tuning.defaultMatmulVariant();
  assert.ok(variants.includes(d), `default ${d}`);
  tuning.setMatmulVariant('tiled');
  assert.is(tuning.matmulVariant(100, 100, 100), 'tiled');
  tuning.setMatmulVariant(null);
  assert.is(tuning.matmulVariant(), d);
  assert.throws(() => tuning.setMatmulVariant('fast'), /unknown variant 'fast'/);
});

test('matmul: autotune keeps a checked winner per bucket and matmul uses it', async () => {
  const t = await tuning.autotuneMatmul({ shapes: [[24, 20, 30, false, true], [130, 70, 300, true, false]], reps: 1 });
  const small = t.buckets[tuning.matmulBucket(24, 20, 30)];
  const medium = t.buckets[tuning.matmulBucket(130, 70, 300)];
  assert.ok(small && medium, 'two buckets timed');
  for (const e of [small, medium]) {
    assert.ok(variants.includes(e.winner), `winner ${e.winner}`);
    assert.ok(Number.isFinite(e.ms[e.winner]), 'winner has a finite time');
  }
  assert.is(tuning.matmulVariant(24, 20, 30), small.winner);
  assert.is(tuning.matmulTuning(), t);
  // the table decides, whatever its winner (the timed one may equal the default)
  const timed = small.winner;
  for (const v of variants) {
    small.winner = v;
    assert.is(tuning.matmulVariant(24, 20, 30), v, `table winner ${v}`);
  }
  // ... and runs its kernels, and computes the right thing
  for (const v of variants) {
    small.winner = v;
    await check(undefined, { m: 24, n: 20, k: 30, tb: true, withBias: true, kernels: expectedKernels(v, { m: 24, n: 20, k: 30, ta: false, tb: true }) });
  }
  small.winner = timed;
  await check(undefined, { m: 24, n: 20, k: 30, tb: true, withBias: true });
  tuning.clearMatmulTuning();
  assert.is(tuning.matmulTuning(), null);
});

test.run();
