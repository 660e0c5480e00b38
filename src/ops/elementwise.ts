// Elementwise ops as a declarative table: one entry per op, the forward WGSL
// expression and the backward rule side by side. Kernels are instantiated from
// kernels/elementwise.wgsl (one module per op and variant) and compiled at init.
//
// Every table expression is instantiated twice: a scalar kernel (one element per
// invocation, any size, any broadcast) and a vec4 kernel (K vec4s per invocation) with
// its float literals wrapped as T(..), T = vec4<f32>, so `max(x, 0.0)` becomes
// `max(x, T(0.0))`. Expressions must therefore be valid on both f32 and vec4<f32>: use
// `&`/`|` (not `&&`/`||`) on comparisons, builtins that work componentwise, and scalars
// only as whole operands of + - * / (alpha, beta). The vec4 path runs when the element
// count is a multiple of 4 (slices start at 256-byte aligned offsets, so vec4 indexing is
// aligned), for same-shape operands and for one operand broadcast along rows ([.., N] and
// [N], N % 4 == 0) or channels ([B, C, H, W] and [1, C, 1, 1], H*W % 4 == 0); everything
// else runs the scalar kernel.

import src from '../../kernels/elementwise.wgsl';
import utilSrc from '../../kernels/util.wgsl';
import { registerKernel } from '../gpu/kernels.js';
import { gpu, grid, BufferSlice } from '../gpu/device.js';
import { instantiate } from '../gpu/template.js';
import { Tensor, Shape, numel, setZeroFillImpl } from '../tensor/tensor.js';
import { record, setGradHelpers } from '../autograd/tape.js';
import {
  checkF32, checkF32Pair, check, sameShape, broadcastShapes, broadcastStrides, vec8, launch1d, out, OpError, shapeStr,
} from './common.js';

// ---- the table --------------------------------------------------------------------------------

interface UnaryDef {
  /** forward, in terms of x (input), alpha, beta */
  fwd: string;
  /** dx in terms of g (upstream), and x (input) or y (output) as `saves` says */
  bwd: string;
  saves: 'x' | 'y';
}

const UNARY: Record<string, UnaryDef> = {
  neg: { fwd: '-x', bwd: '-g', saves: 'x' },
  exp: { fwd: 'exp(x)', bwd: 'g * y', saves: 'y' },
  log: { fwd: 'log(x)', bwd: 'g / x', saves: 'x' },
  relu: { fwd: 'max(x, 0.0)', bwd: 'select(0.0, g, y > 0.0)', saves: 'y' },
  relu6: { fwd: 'clamp(x, 0.0, 6.0)', bwd: 'select(0.0, g, (y > 0.0) & (y < 6.0))', saves: 'y' },
  sigmoid: { fwd: '1.0 / (1.0 + exp(-x))', bwd: 'g * y * (1.0 - y)', saves: 'y' },
  tanh: { fwd: 'tanh(x)', bwd: 'g * (1.0 - y * y)', saves: 'y' },
  sqrt: { fwd: 'sqrt(x)', bwd: 'g * 0.5 / y', saves: 'y' },
  square: { fwd: 'x * x', bwd: '2.0 * g * x', saves: 'x' },
  abs: { fwd: 'abs(x)', bwd: 'g * sign(x)', saves: 'x' },
  /** alpha * x + beta */
  affine: { fwd: 'alpha * x + beta', bwd: 'alpha * g', saves: 'x' },
};

type BinaryName = 'add' | 'sub' | 'mul' | 'div' | 'maximum' | 'minimum';
const BINARY: Record<BinaryName, string> = {
  add: 'x + y',
  sub: 'x - y',
  mul: 'x * y',
  div: 'x / y',
  maximum: 'max(x, y)',
  minimum: 'min(x, y)',
};

// binary expressions only backward rules use: the masks of maximum/minimum (1 where x
// wins, ties go to x) and div's -g * q
const BWD_EXPRS: Record<string, string> = {
  ge_mask: 'select(0.0, 1.0, x >= y)',
  le_mask: 'select(0.0, 1.0, x <= y)',
  negmul: '-(x * y)',
};

/** The vec4 form of a table expression: float literals become T(literal). */
function vec4Expr(expr: string): string {
  return expr.replace(/(?<![\w.])(\d+\.\d*(?:e[+-]?\d+)?)(?![\w.])/g, 'T($1)');
}

const FILE = 'kernels/elementwise.wgsl';
/** One module of kernels/elementwise.wgsl: a width block, operand blocks, and EXPR (vec4-wrapped for VEC4). */
function ewKernel(name: string, width: 'SCALAR' | 'VEC4', operands: string[], expr: string, subst: Record<string, string> = {}): void {
  const e = width === 'VEC4' ? vec4Expr(expr) : expr;
  registerKernel(name, instantiate(src, [width, ...operands], { EXPR: e, ...subst }), FILE);
}
for (const [name, d] of Object.entries(UNARY)) {
  ewKernel(`ew:${name}`, 'SCALAR', ['FLAT', 'UNARY'], d.fwd);
  ewKernel(`ew:${name}:bwd`, 'SCALAR', ['FLAT', 'UNARY_BWD'], d.bwd);
  ewKernel(`ew:${name}:v4`, 'VEC4', ['FLAT', 'UNARY'], d.fwd);
  ewKernel(`ew:${name}:bwd:v4`, 'VEC4', ['FLAT', 'UNARY_BWD'], d.bwd);
}
for (const [name, e] of Object.entries({ ...BINARY, ...BWD_EXPRS })) {
  ewKernel(`ew:${name}`, 'SCALAR', ['STRIDED'], e);
  ewKernel(`ew:${name}:v4`, 'VEC4', ['FLAT', 'BINARY'], e);
  ewKernel(`ew:${name}:bca:v4`, 'VEC4', ['BC4_A', 'BC4'], e, { XV: 'sv', YV: 'fv' });
  ewKernel(`ew:${name}:bcb:v4`, 'VEC4', ['BC4_B', 'BC4'], e, { XV: 'fv', YV: 'sv' });
}
const UFILE = 'kernels/util.wgsl';
registerKernel('util:fill', instantiate(utilSrc, 'FILL'), UFILE);
registerKernel('util:accumulate', instantiate(utilSrc, 'ACCUMULATE'), UFILE);
registerKernel('util:fill:v4', instantiate(utilSrc, ['VEC4', 'FILL4']), UFILE);
registerKernel('util:accumulate:v4', instantiate(utilSrc, ['VEC4', 'ACCUMULATE4']), UFILE);
registerKernel('util:reduce_to', instantiate(utilSrc, 'REDUCE_TO'), UFILE);

// ---- vec4 dispatch ------------------------------------------------------------------------------

/**
 * @internal tuning knobs for benchmarks and tests: vec4 kernels on/off, vec4s per
 * invocation, zero fills by clearBuffer (else the fill kernel).
 */
export const elementwiseTuning = { vec4: true, k: 4, clear: true };

const ZERO24 = [...vec8([]), ...vec8([]), ...vec8([])];

/**
 * Launch over n elements: the vec4 module `module + ':v4'` when n % 4 == 0 (and vec4 is on),
 * else the scalar one. `rank`/`shape` fill P.rank/P.shape for the vec4 broadcast kernels.
 */
function launchEw(
  n: number,
  d: { module: string; label?: string; bindings: BufferSlice[]; u?: number[]; f: number[] },
  rank = 0,
  shape: number[] = [],
): void {
  if (elementwiseTuning.vec4 && n % 4 === 0) {
    const n4 = n / 4;
    const k = elementwiseTuning.k;
    const u = (d.u ?? [n, 0, 0, 0, ...ZERO24]).slice();
    u[0] = n4;
    u[1] = rank;
    shape.forEach((v, i) => (u[4 + i] = v));
    gpu().dispatch({
      module: `${d.module}:v4`,
      label: d.label,
      constants: { K: k },
      bindings: d.bindings,
      u,
      f: d.f,
      workgroups: grid(Math.ceil(n4 / k), 256),
    });
  } else {
    launch1d(n, { module: d.module, label: d.label, bindings: d.bindings, u: d.u ?? [n, 0, 0, 0, ...ZERO24], f: d.f });
  }
}

/**
 * How `shape` reads when broadcast to `outShape`, for the vec4 broadcast kernels:
 * s = ((4 i) / inner) % count, lanes s + k * step. Null when it does not fit (the
 * non-1 dims must be one contiguous run matching outShape, with inner % 4 == 0, or
 * inner == 1 and count % 4 == 0).
 */
function bcastPattern(shape: Shape, outShape: Shape): [number, number, number] | null {
  const r = outShape.length;
  let lo = -1;
  let hi = -1;
  for (let i = 0; i < r; i++) {
    const d = shape[shape.length - r + i] ?? 1;
    if (d === 1) continue;
    if (d !== outShape[i]) return null;
    if (lo < 0) lo = i;
    else if (hi !== i) return null; // a gap: not one contiguous run
    hi = i + 1;
  }
  const n = numel(outShape);
  if (lo < 0) return [n, 1, 0]; // a single element broadcast everywhere
  const inner = numel(outShape.slice(hi));
  const count = numel(outShape.slice(lo, hi));
  if (inner % 4 === 0) return [inner, count, 0];
  if (inner === 1 && count % 4 === 0) return [1, count, 1];
  return null;
}

// ---- launches ---------------------------------------------------------------------------------

function unaryRaw(name: string, x: Tensor, alpha = 0, beta = 0): Tensor {
  const y = out(x.shape);
  if (x.size > 0) {
    launchEw(x.size, { module: `ew:${name}`, bindings: [x.slice(name), y.slice(name)], f: [alpha, beta] });
  }
  return y;
}

/** @internal dx of a table op from the upstream gradient and the saved x or y (see UNARY). */
export function unaryBwdRaw(name: keyof typeof UNARY, g: Tensor, saved: Tensor, alpha = 0, beta = 0): Tensor {
  const dx = out(g.shape);
  if (g.size > 0) {
    launchEw(g.size, {
      module: `ew:${name}:bwd`,
      label: `${name}_backward`,
      bindings: [g.slice(name), saved.slice(name), dx.slice(name)],
      f: [alpha, beta],
    });
  }
  return dx;
}

export function unary(name: keyof typeof UNARY, x: Tensor, alpha = 0, beta = 0): Tensor {
  checkF32(x, name, 'x');
  const def = UNARY[name];
  const y = unaryRaw(name, x, alpha, beta);
  record(name, [x], y, [def.saves === 'x' ? x : y], (g, [s]) => [unaryBwdRaw(name, g, s, alpha, beta)]);
  return y;
}

function binaryRaw(name: string, a: Tensor, b: Tensor, shape?: number[]): Tensor {
  const outShape = shape ?? broadcastShapes(name, a.shape, b.shape);
  const y = out(outShape);
  const n = numel(outShape);
  if (n === 0) return y;
  const aFull = a.size === n;
  const bFull = b.size === n;
  const same = aFull && bFull;
  const bindings = [a.slice(name), b.slice(name), y.slice(name)];
  if (same) {
    launchEw(n, { module: `ew:${name}`, bindings, f: [0, 0] });
    return y;
  }
  if (n % 4 === 0 && elementwiseTuning.vec4 && (aFull || bFull)) {
    const pat = aFull ? bcastPattern(b.shape, outShape) : bcastPattern(a.shape, outShape);
    if (pat) {
      const [inner, count] = pat;
      const ext = [...pat, 1024 % inner, Math.floor(1024 / inner) % count];
      launchEw(n, { module: `ew:${name}:${aFull ? 'bcb' : 'bca'}`, bindings, f: [0, 0] }, 1, ext);
      return y;
    }
  }
  if (outShape.length > 8) throw new OpError(name, `broadcasting supports rank <= 8, got ${shapeStr(outShape)}`);
  const rank = outShape.length;
  launch1d(n, {
    module: `ew:${name}`,
    bindings,
    u: [n, rank, 0, 0, ...vec8(outShape), ...vec8(broadcastStrides(a.shape, outShape)), ...vec8(broadcastStrides(b.shape, outShape))],
    f: [0, 0],
  });
  return y;
}

/** Sum `g` down to `shape` over broadcast dimensions (the gradient of broadcasting). */
export function sumTo(g: Tensor, shape: Shape): Tensor {
  if (sameShape(g.shape, shape)) return copy(g);
  const r = g.shape.length;
  const padded: number[] = [];
  for (let i = 0; i < r; i++) padded.push(shape[shape.length - r + i] ?? 1);
  const gStr = broadcastStrides(g.shape, g.shape);
  const keptStr: number[] = [];
  const rshape: number[] = [];
  const rstr: number[] = [];
  for (let i = 0; i < r; i++) {
    keptStr.push(padded[i] === 1 ? 0 : gStr[i]);
    if (padded[i] === 1 && g.shape[i] !== 1) {
      rshape.push(g.shape[i]);
      rstr.push(gStr[i]);
    }
  }
  const n = numel(shape);
  const y = out(shape);
  launch1d(n, {
    module: 'util:reduce_to',
    label: 'sum_to',
    bindings: [g.slice('sumTo'), y.slice('sumTo')],
    u: [n, r, numel(rshape), rshape.length, ...vec8(padded), ...vec8(keptStr), ...vec8(rshape), ...vec8(rstr)],
    f: [0],
  });
  return y;
}

function binary(name: BinaryName, a: Tensor, b: Tensor): Tensor {
  checkF32Pair(a, b, name);
  const y = binaryRaw(name, a, b);
  const as = a.shape;
  const bs = b.shape;
  switch (name) {
    case 'add':
      record(name, [a, b], y, [], (g) => [a.requiresGrad ? gradTo(g, as) : null, b.requiresGrad ? gradTo(g, bs) : null]);
      break;
    case 'sub':
      record(name, [a, b], y, [], (g) => {
        let gb: Tensor | null = null;
        if (b.requiresGrad) {
          const s = gradTo(g, bs);
          gb = unaryRaw('neg', s);
          s.dispose();
        }
        return [a.requiresGrad ? gradTo(g, as) : null, gb];
      });
      break;
    case 'mul':
      record(name, [a, b], y, [a, b], (g, [sa, sb]) => [
        a.requiresGrad ? reduceProduct(g, sb, as) : null,
        b.requiresGrad ? reduceProduct(g, sa, bs) : null,
      ]);
      break;
    case 'div':
      // d(a/b)/da = 1 / b; d(a/b)/db = -a / b^2 = -y / b, from the saved output y
      record(name, [a, b], y, [b, y], (g, [sb, sy]) => {
        const ga = a.requiresGrad ? sumToOwned(binaryRaw('div', g, sb, g.shape as number[]), as) : null;
        let gb: Tensor | null = null;
        if (b.requiresGrad) {
          const q = binaryRaw('div', sy, sb, g.shape as number[]);
          gb = sumToOwned(binaryRaw('negmul', g, q, g.shape as number[]), bs);
          q.dispose();
        }
        return [ga, gb];
      });
      break;
    case 'maximum':
    case 'minimum': {
      const mask = name === 'maximum' ? 'ge_mask' : 'le_mask';
      record(name, [a, b], y, [a, b], (g, [sa, sb]) => {
        const m = binaryRaw(mask, sa, sb, g.shape as number[]);
        const ga = a.requiresGrad ? reduceProduct(g, m, as) : null;
        let gb: Tensor | null = null;
        if (b.requiresGrad) {
          const inv = unaryRaw('affine', m, -1, 1);
          gb = reduceProduct(g, inv, bs);
          inv.dispose();
        }
        m.dispose();
        return [ga, gb];
      });
      break;
    }
  }
  return y;
}

/**
 * The gradient `g` of a broadcast operand of `shape`: a view sharing g's storage when nothing
 * was broadcast (no copy: the tape never writes into a gradient, and a leaf copies one whose
 * storage is shared before keeping it), else sumTo.
 */
function gradTo(g: Tensor, shape: Shape): Tensor {
  return sameShape(g.shape, shape) ? g.view(shape) : sumTo(g, shape);
}

/** @internal sumTo that takes ownership of `t`: returns it as is when it already has `shape`, else disposes it. */
export function sumToOwned(t: Tensor, shape: Shape): Tensor {
  if (sameShape(t.shape, shape)) return t;
  const r = sumTo(t, shape);
  t.dispose();
  return r;
}

/** sumTo(g * other, shape) */
function reduceProduct(g: Tensor, other: Tensor, shape: Shape): Tensor {
  return sumToOwned(binaryRaw('mul', g, other, g.shape as number[]), shape);
}

// ---- public ops -------------------------------------------------------------------------------

type Operand = Tensor | number;

function scalarOp(name: BinaryName, a: Operand, b: Operand): Tensor {
  if (typeof b === 'number' && a instanceof Tensor) {
    if (name === 'add') return unary('affine', a, 1, b);
    if (name === 'sub') return unary('affine', a, 1, -b);
    if (name === 'mul') return unary('affine', a, b, 0);
    if (name === 'div') return unary('affine', a, 1 / b, 0);
  }
  if (typeof a === 'number' && b instanceof Tensor) {
    if (name === 'add') return unary('affine', b, 1, a);
    if (name === 'sub') return unary('affine', b, -1, a);
    if (name === 'mul') return unary('affine', b, a, 0);
  }
  const ta = typeof a === 'number' ? scalarTensor(a) : a;
  const tb = typeof b === 'number' ? scalarTensor(b) : b;
  const r = binary(name, ta, tb);
  if (ta !== a) ta.dispose();
  if (tb !== b) tb.dispose();
  return r;
}

function scalarTensor(v: number): Tensor {
  return fill([1], v);
}

export const add = (a: Operand, b: Operand): Tensor => scalarOp('add', a, b);
export const sub = (a: Operand, b: Operand): Tensor => scalarOp('sub', a, b);
export const mul = (a: Operand, b: Operand): Tensor => scalarOp('mul', a, b);
export const div = (a: Operand, b: Operand): Tensor => scalarOp('div', a, b);
export const maximum = (a: Tensor, b: Tensor): Tensor => binary('maximum', a, b);
export const minimum = (a: Tensor, b: Tensor): Tensor => binary('minimum', a, b);
export const neg = (x: Tensor): Tensor => unary('neg', x);
export const exp = (x: Tensor): Tensor => unary('exp', x);
export const log = (x: Tensor): Tensor => unary('log', x);
export const relu = (x: Tensor): Tensor => unary('relu', x);
export const relu6 = (x: Tensor): Tensor => unary('relu6', x);
export const sigmoid = (x: Tensor): Tensor => unary('sigmoid', x);
export const tanh = (x: Tensor): Tensor => unary('tanh', x);
export const sqrt = (x: Tensor): Tensor => unary('sqrt', x);
export const square = (x: Tensor): Tensor => unary('square', x);
export const abs = (x: Tensor): Tensor => unary('abs', x);
/** alpha * x + beta */
export const affine = (x: Tensor, alpha: number, beta = 0): Tensor => unary('affine', x, alpha, beta);

/** A tensor of `shape` filled with `value` (no gradient). */
export function fill(shape: Shape, value: number): Tensor {
  const t = out(shape);
  fillSlice(t, value);
  return t;
}

/** Overwrite `t` with `value`, in place. */
export function fillInPlace(t: Tensor, value: number): void {
  check(t, 'fill_', 't');
  fillSlice(t, value);
}

function fillSlice(t: Tensor, value: number): void {
  if (t.size > 0 && Object.is(value, 0) && elementwiseTuning.clear) {
    // +0.0 is all-zero bits: clearBuffer (a memset on lavapipe) beats any kernel
    const sl = t.slice('fill');
    gpu().encoderForCopy().clearBuffer(sl.buffer, sl.offset, t.size * 4);
    return;
  }
  if (t.size > 0) {
    launchEw(t.size, { module: 'util:fill', bindings: [t.slice('fill')], u: [t.size, 0, 0, 0, ...ZERO24, ...vec8([])], f: [value] });
  }
}

/** dst += src, in place (same size). */
export function accumulate(dst: Tensor, src: Tensor): void {
  if (dst.size !== src.size) throw new OpError('accumulate', `sizes differ: ${shapeStr(dst.shape)} vs ${shapeStr(src.shape)}`);
  if (dst.size === 0) return;
  launchEw(dst.size, {
    module: 'util:accumulate',
    bindings: [src.slice('accumulate'), dst.slice('accumulate')],
    u: [dst.size, 0, 0, 0, ...ZERO24, ...vec8([])],
    f: [0],
  });
}

/** A copy with its own storage (no gradient). */
export function copy(t: Tensor): Tensor {
  const y = out(t.shape, t.dtype);
  if (t.size > 0) gpuCopy(t, y);
  return y;
}

function gpuCopy(src: Tensor, dst: Tensor): void {
  gpu().copy(src.slice('copy'), dst.slice('copy'), src.size * 4);
}

/** Copy src's data into dst in place (same size). */
export function assign(dst: Tensor, src: Tensor): void {
  if (dst.size !== src.size) throw new OpError('assign', `sizes differ: ${shapeStr(dst.shape)} vs ${shapeStr(src.shape)}`);
  if (dst.size > 0) gpuCopy(src, dst);
}

setGradHelpers({
  add: (a, b) => binaryRaw('add', a, b),
  accumulate,
  onesLike: (t) => fill(t.shape, 1),
  copy,
  assign,
});
setZeroFillImpl((t) => fillSlice(t, 0));
