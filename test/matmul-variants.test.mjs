// Every matmul variant (rb, sg where the device has subgroups, tiled) and every transpose
// combination against a float64 reference on awkward shapes (edges of every tile size,
// K not a multiple of the unroll, batch and broadcast), with the bias + ReLU epilogue;
// autotune table and the variant switch.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { tensor, ops, tuning, internal } from './helpers/lib.mjs';
import { rng, assertClose, size } from './helpers/ref.mjs';

const variants = tuning.availableMatmulVariants();

/** float64 C[b] = op(A[b])·op(B[b]) (+bias, relu); A/B given in stored layout. */
function refMatmul(a, b, { bm, m, n, k, ta, tb, batchA, batchB, bias, relu }) {
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
        if (relu) s = Math.max(s, 0);
        c[z * m * n + i * n + j] = s;
      }
    }
  }
  return c;
}

async function check(variant, { m, n, k, ta = false, tb = false, batchA = 0, batchB = 0, withBias = false, relu = false, seed = 1 }) {
  const r = rng(seed);
  const aShape = ta ? [k, m] : [m, k];
  const bShape = tb ? [n, k] : [k, n];
  const fa = batchA ? [batchA, ...aShape] : aShape;
  const fb = batchB ? [batchB, ...bShape] : bShape;
  const ah = r.uniform(size(fa));
  const bh = r.uniform(size(fb));
  const biash = withBias ? r.uniform(n) : null;
  const bm = Math.max(batchA || 1, batchB || 1);
  const expected = refMatmul(ah, bh, { bm, m, n, k, ta, tb, batchA: batchA || 1, batchB: batchB || 1, bias: biash, relu });
  const a = tensor(Float32Array.from(ah), fa);
  const b = tensor(Float32Array.from(bh), fb);
  const bias = biash ? tensor(Float32Array.from(biash), [n]) : null;
  const c = internal.matmulRaw(a, b, { transA: ta, transB: tb, bias, relu, variant });
  const wantShape = batchA || batchB ? [bm, m, n] : [m, n];
  const got = await c.read();
  for (const t of [a, b, bias, c]) t?.dispose();
  assert.equal(c.shape, wantShape, `${variant} shape`);
  const what = `${variant} ${batchA ? batchA + '×' : ''}${aShape}${ta ? 'ᵀ' : ''} · ${batchB ? batchB + '×' : ''}${bShape}${tb ? 'ᵀ' : ''}${withBias ? ' +bias' : ''}${relu ? ' relu' : ''}`;
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

  test(`matmul ${v}: bias + relu epilogue`, async () => {
    await check(v, { m: 37, n: 19, k: 61, withBias: true, relu: true });
    await check(v, { m: 37, n: 19, k: 61, withBias: true, tb: true });
    await check(v, { m: 20, n: 45, k: 9, relu: true, ta: true });
    await check(v, { m: 9, n: 21, k: 13, batchA: 2, batchB: 2, withBias: true, relu: true, ta: true, tb: true });
  });
}

test('matmul: a product whose transpose pass would exceed the grid limit still runs (falls back)', async () => {
  // 2,100,000 rows: sg's transpose of A would need 65,625 workgroups in one dimension
  // (only sg transposes; the others' grids have 32 or 64 rows per workgroup)
  if (variants.includes('sg')) await check('sg', { m: 2100000, n: 2, k: 1, withBias: true, seed: 5 });
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
  small.winner = timed;
  // the tuned choice still computes the right thing
  await check(undefined, { m: 24, n: 20, k: 30, tb: true, withBias: true });
  tuning.clearMatmulTuning();
  assert.is(tuning.matmulTuning(), null);
});

test.run();
