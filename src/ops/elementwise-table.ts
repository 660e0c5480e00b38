// The elementwise table: one entry per op, the forward WGSL expression and the backward rules
// side by side, and the kernels instantiated from it (kernels/elementwise.wgsl).
//
// Unary entries: `fwd` in x (input), alpha, beta; `bwd` (dx) in g (upstream gradient) and the
// saved x or y (output), as `saves` says. Binary entries: `fwd` in x, y; `da`, `db` the operands'
// gradients in g, x, y and z (the output), before summing over broadcast dimensions; null where
// the gradient is g itself (no kernel: the tape passes g on, summed down if broadcast).
//
// Every expression is instantiated as a scalar kernel (one element per invocation, any size, any
// broadcast) and a vec4 kernel (K vec4s per invocation) with its float literals wrapped as T(..),
// T = vec4<f32>, so `max(x, 0.0)` becomes `max(x, T(0.0))`. Expressions must therefore be valid
// on both f32 and vec4<f32>: `&`/`|`/`!` (not `&&`/`||`) on comparisons, builtins that work
// componentwise, and scalars only as whole operands of + - * / (alpha, beta). `is_nan(v)` tests
// for NaN by its bits (bool or vec4<bool>).

import src from '../../kernels/elementwise.wgsl';
import { registerKernel, hasKernel, kernelByName, instantiate, paramBlock, type Kernel, type ParamBlock, type ParamFields } from '../gpu/index.js';

export const EwFlat = paramBlock('elementwise.flat', { n: 'u32', alpha: 'f32', beta: 'f32' });
export const EwStrided = paramBlock('elementwise.strided', {
  n: 'u32', rank: 'u32', shape: 'u32[8]', astr: 'u32[8]', bstr: 'u32[8]', alpha: 'f32', beta: 'f32',
});
export const EwBroadcast = paramBlock('elementwise.broadcast', {
  n: 'u32', inner: 'u32', count: 'u32', step: 'u32', inner_step: 'u32', count_step: 'u32', alpha: 'f32', beta: 'f32',
});

export interface UnaryDef {
  fwd: string;
  bwd: string;
  saves: 'x' | 'y';
}

export const UNARY = {
  neg: { fwd: '-x', bwd: '-g', saves: 'x' },
  exp: { fwd: 'exp(x)', bwd: 'g * y', saves: 'y' },
  log: { fwd: 'log(x)', bwd: 'g / x', saves: 'x' },
  // NaN propagates as in PyTorch: relu(NaN) = NaN, and its gradient passes (y <= 0 is false)
  relu: { fwd: 'select(max(x, 0.0), x, is_nan(x))', bwd: 'select(g, 0.0, y <= 0.0)', saves: 'y' },
  relu6: { fwd: 'select(clamp(x, 0.0, 6.0), x, is_nan(x))', bwd: 'select(g, 0.0, (y <= 0.0) | (y >= 6.0))', saves: 'y' },
  sigmoid: { fwd: '1.0 / (1.0 + exp(-x))', bwd: 'g * y * (1.0 - y)', saves: 'y' },
  tanh: { fwd: 'tanh(x)', bwd: 'g * (1.0 - y * y)', saves: 'y' },
  sqrt: { fwd: 'sqrt(x)', bwd: 'g * 0.5 / y', saves: 'y' },
  square: { fwd: 'x * x', bwd: '2.0 * g * x', saves: 'x' },
  abs: { fwd: 'abs(x)', bwd: 'g * sign(x)', saves: 'x' },
  /** alpha * x + beta */
  affine: { fwd: 'alpha * x + beta', bwd: 'alpha * g', saves: 'x' },
} as const satisfies Record<string, UnaryDef>;
export type UnaryName = keyof typeof UNARY;

export interface BinaryDef {
  fwd: string;
  da: string | null;
  db: string | null;
}

export const BINARY = {
  add: { fwd: 'x + y', da: null, db: null },
  sub: { fwd: 'x - y', da: null, db: '-g' },
  mul: { fwd: 'x * y', da: 'g * y', db: 'g * x' },
  // d(x/y)/dy = -x / y² = -z / y
  div: { fwd: 'x / y', da: 'g / y', db: '-(g * (z / y))' },
  // ties go to x. NaN as in PyTorch: a NaN operand makes the output NaN (x + y is NaN then) and
  // both operands get the gradient (PyTorch masks it only where x < y, or x > y, is true)
  maximum: {
    fwd: 'select(max(x, y), x + y, is_nan(x) | is_nan(y))',
    da: 'g * select(0.0, 1.0, (x >= y) | is_nan(x) | is_nan(y))',
    db: 'g * select(0.0, 1.0, (x < y) | is_nan(x) | is_nan(y))',
  },
  minimum: {
    fwd: 'select(min(x, y), x + y, is_nan(x) | is_nan(y))',
    da: 'g * select(0.0, 1.0, (x <= y) | is_nan(x) | is_nan(y))',
    db: 'g * select(0.0, 1.0, (x > y) | is_nan(x) | is_nan(y))',
  },
} as const satisfies Record<string, BinaryDef>;
export type BinaryName = keyof typeof BINARY;

/** The operands a gradient expression reads besides g. */
export function operandsOf(expr: string): { x: boolean; y: boolean; z: boolean } {
  return { x: /\bx\b/.test(expr), y: /\by\b/.test(expr), z: /\bz\b/.test(expr) };
}

/** The vec4 form of a table expression: float literals become T(literal). */
function vec4Expr(expr: string): string {
  return expr.replace(/(?<![\w.])(\d+\.\d*(?:e[+-]?\d+)?)(?![\w.])/g, 'T($1)');
}

const FILE = 'kernels/elementwise.wgsl';
function ew<F extends ParamFields>(name: string, width: 'SCALAR' | 'VEC4', blocks: string[], expr: string, params: ParamBlock<F>, subst: Record<string, string> = {}): Kernel<F> {
  const code = instantiate(src, [width, ...blocks], { EXPR: width === 'VEC4' ? vec4Expr(expr) : expr, ...subst });
  return registerKernel({ name, code, file: FILE, params });
}

for (const [name, d] of Object.entries(UNARY)) {
  ew(`ew:${name}`, 'SCALAR', ['FLAT', 'UNARY'], d.fwd, EwFlat);
  ew(`ew:${name}:bwd`, 'SCALAR', ['FLAT', 'UNARY_BWD'], d.bwd, EwFlat);
  ew(`ew:${name}:v4`, 'VEC4', ['FLAT', 'UNARY'], d.fwd, EwFlat);
  ew(`ew:${name}:bwd:v4`, 'VEC4', ['FLAT', 'UNARY_BWD'], d.bwd, EwFlat);
}
for (const [name, d] of Object.entries(BINARY)) {
  ew(`ew:${name}`, 'SCALAR', ['STRIDED_AT', 'STRIDED'], d.fwd, EwStrided);
  ew(`ew:${name}:v4`, 'VEC4', ['FLAT', 'BINARY'], d.fwd, EwFlat);
  ew(`ew:${name}:bca:v4`, 'VEC4', ['BC4_A', 'BC4_AT', 'BC4'], d.fwd, EwBroadcast, { XV: 'sv', YV: 'fv', SBUF: 's' });
  ew(`ew:${name}:bcb:v4`, 'VEC4', ['BC4_B', 'BC4_AT', 'BC4'], d.fwd, EwBroadcast, { XV: 'fv', YV: 'sv', SBUF: 's' });
}

/**
 * The kernel of a binary op's operand gradient (registered on first use): `form` 'strided'
 * (scalar, strides), 'flat' (vec4, same shapes) or 'bcx' / 'bcy' (vec4, x or y broadcast).
 * Its bindings: g, then the operands the expression names (x, y, z in that order), then out.
 */
export function gradKernel(op: BinaryName, which: 'da' | 'db', form: 'strided' | 'flat' | 'bcx' | 'bcy'): Kernel {
  const name = `ew:${op}:${which}:${form}`;
  if (hasKernel(name)) return kernelByName(name);
  return registerGrad(name, op, which, form);
}

function registerGrad(name: string, op: BinaryName, which: 'da' | 'db', form: 'strided' | 'flat' | 'bcx' | 'bcy'): Kernel {
  const expr = BINARY[op][which]!;
  const use = operandsOf(expr);
  const scalar = form === 'strided';
  const el = (bc: boolean) => (scalar || bc ? 'f32' : 'vec4<f32>');
  const decls: string[] = [];
  let b = 1;
  const bind = (name: string, type: string, rw = false) =>
    decls.push(`@group(0) @binding(${b++}) var<storage, ${rw ? 'read_write' : 'read'}> ${name}: array<${type}>;`);
  bind('gr', el(false));
  if (use.x) bind('a', el(form === 'bcx'));
  if (use.y) bind('b', el(form === 'bcy'));
  if (use.z) bind('zo', el(false));
  bind('out', el(false), true);
  const load = (used: boolean, buf: string, bc: boolean) =>
    !used ? 'E()' : scalar ? `${buf}[c.${buf === 'a' ? 'x' : 'y'}]` : bc ? 'lanes(c)' : `${buf}[i]`;
  const subst = {
    GRAD_DECLS: decls.join(' '),
    XL: load(use.x, 'a', form === 'bcx'),
    YL: load(use.y, 'b', form === 'bcy'),
    ZL: use.z ? 'zo[i]' : 'E()',
    CT: form === 'flat' ? 'u32' : 'vec2<u32>',
    SBUF: form === 'bcx' ? 'a' : 'b',
  };
  const blocks = scalar ? ['STRIDED_AT', 'GRAD'] : form === 'flat' ? ['FLAT', 'GRAD'] : ['BC4_AT', 'GRAD'];
  const width = scalar ? 'SCALAR' : 'VEC4';
  if (scalar) return ew(name, width, blocks, expr, EwStrided, subst) as unknown as Kernel;
  return (form === 'flat' ? ew(name, width, blocks, expr, EwFlat, subst) : ew(name, width, blocks, expr, EwBroadcast, subst)) as unknown as Kernel;
}

/** A registered elementwise kernel, typed by the block it was registered with. */
export function ewKernel<F extends ParamFields>(name: string, block: ParamBlock<F>): Kernel<F> {
  const k = kernelByName(name);
  if (k.params !== (block as unknown)) throw new Error(`focusnet: internal: kernel '${name}' does not take the '${block.name}' parameters`);
  return k as unknown as Kernel<F>;
}
