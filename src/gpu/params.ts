// Typed uniform parameter blocks: the one contract between a launcher and its kernel.
//
// A kernel family declares its uniform block once, in TypeScript:
//
//   const ConvParams = paramBlock('conv2d', { n: 'u32', relu: 'bool', alpha: 'f32', shape: 'u32[8]' });
//
// and both sides come from that declaration:
//   - the WGSL: `registerKernel({ ..., params: ConvParams })` replaces the kernel's `//#params` line
//     with `struct P { n: u32, relu: u32, alpha: f32, shape: array<vec4<u32>, 2> };
//     @group(0) @binding(0) var<uniform> p: P;` (one line, so compiler messages keep the file's
//     line numbers; a `T[n]` field is read in WGSL as `p.shape[i / 4u][i % 4u]`);
//   - the packer: `gpu().dispatch({ kernel, params: { n, relu, alpha, shape } })` writes the values
//     at the offsets WGSL's uniform layout gives them (scalars 4-byte aligned, arrays of vec4
//     16-byte aligned), and refuses a missing, extra or mistyped field. The field names and value
//     types are also checked by TypeScript at the call.
//
// Field types: 'u32', 'i32', 'f32', 'bool' (a u32 holding 0 or 1, given as a boolean), and
// 'u32[n]' / 'i32[n]' / 'f32[n]' (n a multiple of 4: up to n numbers, the rest zero, e.g. a
// shape of rank <= 8). A block fits one 256-byte uniform slot.

import { OpError } from '../errors.js';

/** Bytes of one dispatch's uniform slot (the device's minUniformBufferOffsetAlignment is at most 256). */
export const PARAM_SLOT_BYTES = 256;

type Scalar = 'u32' | 'i32' | 'f32';
export type ParamType = Scalar | 'bool' | `${Scalar}[${number}]`;
export type ParamFields = Readonly<Record<string, ParamType>>;

type ValueOf<T extends ParamType> = T extends 'bool' ? boolean : T extends `${string}[${number}]` ? readonly number[] : number;
/** The values a dispatch passes for a block: one per field, typed by the field's type. */
export type ParamValues<F extends ParamFields> = { readonly [K in keyof F]: ValueOf<F[K]> };

interface Field {
  name: string;
  scalar: Scalar;
  bool: boolean;
  /** array capacity in elements; 0 for a scalar */
  length: number;
  /** offset in 4-byte words */
  word: number;
}

/** A declared uniform block: its WGSL text and its packer. */
export class ParamBlock<F extends ParamFields = ParamFields> {
  readonly fields: readonly Field[];
  /** `struct P { ... }; @group(0) @binding(0) var<uniform> p: P;` on one line */
  readonly wgsl: string;
  /** struct size in bytes (WGSL uniform layout) */
  readonly bytes: number;
  private readonly names: Set<string>;

  constructor(readonly name: string, decl: F) {
    const fields: Field[] = [];
    const members: string[] = [];
    let offset = 0;
    let align = 4;
    for (const [field, type] of Object.entries(decl)) {
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(field)) throw new Error(`paramBlock '${name}': field name '${field}' is not a WGSL identifier`);
      const m = /^(u32|i32|f32|bool)(?:\[(\d+)\])?$/.exec(type);
      if (!m || (m[1] === 'bool' && m[2])) throw new Error(`paramBlock '${name}': field '${field}' has unknown type '${type}' (u32, i32, f32, bool, or u32[n] / i32[n] / f32[n])`);
      const scalar = (m[1] === 'bool' ? 'u32' : m[1]) as Scalar;
      const length = m[2] ? Number(m[2]) : 0;
      if (m[2] && (length < 4 || length % 4 !== 0)) throw new Error(`paramBlock '${name}': field '${field}': array length ${length} must be a positive multiple of 4 (vec4 elements)`);
      const a = length ? 16 : 4;
      offset = Math.ceil(offset / a) * a;
      align = Math.max(align, a);
      fields.push({ name: field, scalar, bool: m[1] === 'bool', length, word: offset / 4 });
      members.push(`${field}: ${length ? `array<vec4<${scalar}>, ${length / 4}>` : scalar}`);
      offset += length ? length * 4 : 4;
    }
    this.bytes = Math.max(4, Math.ceil(offset / align) * align);
    if (this.bytes > PARAM_SLOT_BYTES) {
      throw new Error(`paramBlock '${name}': ${this.bytes} bytes do not fit a ${PARAM_SLOT_BYTES}-byte uniform slot`);
    }
    if (!fields.length) throw new Error(`paramBlock '${name}': a block needs at least one field`);
    this.fields = fields;
    this.names = new Set(fields.map((f) => f.name));
    this.wgsl = `struct P { ${members.join(', ')} }; @group(0) @binding(0) var<uniform> p: P;`;
  }

  /**
   * Write `values` into the slot starting at word `base` of the three views (one buffer).
   * `kernel` names the dispatch in error messages.
   */
  pack(values: ParamValues<F>, u32: Uint32Array, i32: Int32Array, f32: Float32Array, base: number, kernel: string): void {
    const v = values as unknown as Record<string, unknown>;
    if (v === null || typeof v !== 'object') throw this.error(kernel, `expected an object of parameters, got ${v === null ? 'null' : typeof v}`);
    let given = 0;
    for (const k in v) if (v[k] !== undefined) given++;
    if (given !== this.fields.length) this.checkNames(v, kernel);
    for (const f of this.fields) {
      const x = v[f.name];
      if (x === undefined) this.checkNames(v, kernel);
      const w = base + f.word;
      if (f.length === 0) {
        if (f.bool) {
          if (typeof x !== 'boolean') throw this.error(kernel, this.typeMessage(f, x));
          u32[w] = x ? 1 : 0;
        } else {
          if (typeof x !== 'number' || !fits(f.scalar, x)) throw this.error(kernel, this.typeMessage(f, x));
          if (f.scalar === 'u32') u32[w] = x;
          else if (f.scalar === 'i32') i32[w] = x;
          else f32[w] = x;
        }
        continue;
      }
      if (!Array.isArray(x) && !ArrayBuffer.isView(x)) throw this.error(kernel, this.typeMessage(f, x));
      const arr = x as ArrayLike<number>;
      if (arr.length > f.length) throw this.error(kernel, `field '${f.name}' (${f.scalar}[${f.length}]) takes at most ${f.length} values, got ${arr.length}`);
      const view = f.scalar === 'u32' ? u32 : f.scalar === 'i32' ? i32 : f32;
      for (let k = 0; k < f.length; k++) {
        const e = k < arr.length ? arr[k] : 0;
        if (typeof e !== 'number' || !fits(f.scalar, e)) throw this.error(kernel, `field '${f.name}' element ${k} must be ${kindOf(f.scalar)}, got ${String(e)}`);
        view[w + k] = e;
      }
    }
  }

  private checkNames(v: Record<string, unknown>, kernel: string): void {
    for (const f of this.fields) if (v[f.name] === undefined) throw this.error(kernel, `missing field '${f.name}'`);
    for (const k in v) if (v[k] !== undefined && !this.names.has(k)) throw this.error(kernel, `unknown field '${k}' (the block has ${[...this.names].join(', ')})`);
  }

  private typeMessage(f: Field, x: unknown): string {
    const want = f.bool ? 'a boolean' : f.length ? `an array of at most ${f.length} ${f.scalar} values` : kindOf(f.scalar);
    return `field '${f.name}' must be ${want}, got ${typeof x === 'number' || typeof x === 'boolean' ? String(x) : Array.isArray(x) ? 'an array' : typeof x}`;
  }

  private error(kernel: string, msg: string): OpError {
    return new OpError(kernel, `parameters (${this.name}): ${msg}`);
  }
}

function fits(s: Scalar, x: number): boolean {
  if (s === 'u32') return x >>> 0 === x;
  if (s === 'i32') return (x | 0) === x;
  return true; // any number, NaN and ±Infinity included (fills and scales may be non-finite)
}

function kindOf(s: Scalar): string {
  return s === 'u32' ? 'a u32 (an integer in [0, 2^32))' : s === 'i32' ? 'an i32 (an integer in [-2^31, 2^31))' : 'a number (f32)';
}

/** Declare a uniform block (see the header). `name` names it in error messages. */
export function paramBlock<const F extends ParamFields>(name: string, fields: F): ParamBlock<F> {
  return new ParamBlock(name, fields);
}

/** The `//#params` line of a kernel source, replaced by the block's WGSL (see registerKernel). */
export const PARAMS_DIRECTIVE = /^[ \t]*\/\/#params[ \t]*$/m;
