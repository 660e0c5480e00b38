// Convolution geometry: the argument checks of conv2d and the shapes of one convolution
// (ConvGeom), with the shape predicates and derived geometries the launchers share.

import { OpError, shapeStr } from '../common.js';

/** The op name errors and buffer slices carry. */
export const OP = 'conv2d';

/** The shape hyper-parameters of a convolution (conv2d's options less the epilogue). */
export interface ConvShapeOptions {
  /** stride, one number or [h, w] (default 1) */
  stride?: number | readonly [number, number];
  /** zero padding on each side, one number or [h, w] (default 0) */
  padding?: number | readonly [number, number];
  /** channel groups: Cin and Cout must be multiples; groups = Cin = Cout is depthwise (default 1) */
  groups?: number;
}

/** Shapes and hyper-parameters of one convolution. */
export interface ConvGeom {
  n: number; cin: number; h: number; w: number;
  cout: number; oh: number; ow: number; groups: number;
  kh: number; kw: number; sh: number; sw: number;
  ph: number; pw: number; cing: number; coutg: number;
}

function pair(v: number | readonly [number, number] | undefined, dflt: number, what: string, min: number): [number, number] {
  const p: number[] = v === undefined ? [dflt, dflt] : typeof v === 'number' ? [v, v] : [...v];
  if (p.length !== 2 || !p.every((d) => Number.isInteger(d) && d >= min)) {
    throw new OpError(OP, `${what} must be an integer >= ${min} or a pair [h, w] of them, got ${JSON.stringify(v)}`);
  }
  return [p[0], p[1]];
}

/** Validate arguments and compute the geometry; errors name the op and the shapes. */
export function conv2dGeometry(xs: readonly number[], ws: readonly number[], bs: readonly number[] | null, o: ConvShapeOptions = {}): ConvGeom {
  const shapes = `input ${shapeStr(xs)}, weight ${shapeStr(ws)}${bs ? `, bias ${shapeStr(bs)}` : ''}`;
  if (xs.length !== 4) throw new OpError(OP, `input must be 4-D [N, C, H, W], got ${shapeStr(xs)} (${shapes})`);
  if (ws.length !== 4) throw new OpError(OP, `weight must be 4-D [Cout, Cin/groups, KH, KW], got ${shapeStr(ws)} (${shapes})`);
  const groups = o.groups ?? 1;
  if (!Number.isInteger(groups) || groups < 1) throw new OpError(OP, `groups must be a positive integer, got ${groups}`);
  const [sh, sw] = pair(o.stride, 1, 'stride', 1);
  const [ph, pw] = pair(o.padding, 0, 'padding', 0);
  const [n, cin, h, w] = xs;
  const [cout, wcin, kh, kw] = ws;
  if ([n, cin, h, w, cout, wcin, kh, kw].some((d) => d < 1)) throw new OpError(OP, `empty dimensions are not supported (${shapes})`);
  if (cin % groups !== 0) throw new OpError(OP, `input channels ${cin} are not divisible by groups ${groups} (${shapes})`);
  if (cout % groups !== 0) throw new OpError(OP, `output channels ${cout} are not divisible by groups ${groups} (${shapes})`);
  if (wcin !== cin / groups) {
    throw new OpError(OP, `weight expects ${wcin} input channels per group but the input has ${cin} channels in ${groups} group(s) = ${cin / groups} per group (${shapes})`);
  }
  if (bs && (bs.length !== 1 || bs[0] !== cout)) throw new OpError(OP, `bias must be [${cout}], got ${shapeStr(bs)} (${shapes})`);
  if (h + 2 * ph < kh || w + 2 * pw < kw) {
    throw new OpError(OP, `kernel ${kh}×${kw} is larger than the padded input ${h + 2 * ph}×${w + 2 * pw} (${shapes}, padding [${ph}, ${pw}])`);
  }
  const oh = Math.floor((h + 2 * ph - kh) / sh) + 1;
  const ow = Math.floor((w + 2 * pw - kw) / sw) + 1;
  return { n, cin, h, w, cout, oh, ow, groups, kh, kw, sh, sw, ph, pw, cing: cin / groups, coutg: cout / groups };
}

/** 1×1, stride 1, unpadded, ungrouped: a batched matmul W·X[n]. */
export function isPointwise(g: ConvGeom): boolean {
  return g.kh === 1 && g.kw === 1 && g.sh === 1 && g.sw === 1 && g.ph === 0 && g.pw === 0 && g.groups === 1;
}

/** Whether the stride-1 input gradient can be written as a forward convolution of dY (padding K−1−p >= 0). */
export function hasFlippedForm(g: ConvGeom): boolean {
  return g.groups === 1 && g.sh === 1 && g.sw === 1 && g.ph < g.kh && g.pw < g.kw;
}

/** Geometry of dX = conv(dY, flipped Wᵀ, padding K−1−p) for a stride-1 ungrouped convolution. */
export function flippedGeom(g: ConvGeom): ConvGeom {
  return { ...g, cin: g.cout, h: g.oh, w: g.ow, oh: g.h, ow: g.w, cout: g.cin, cing: g.cout, coutg: g.cin, ph: g.kh - 1 - g.ph, pw: g.kw - 1 - g.pw };
}
