// The registry of WGSL kernel modules. Op modules register the code they embed (esbuild
// inlines kernels/*.wgsl as text, usually one `//#if` block of a file through instantiate())
// together with its uniform parameter block; `registerKernel` inserts the block's WGSL struct
// at the code's `//#params` line and returns the handle a dispatch names. init() compiles
// every module registered by then; a module registered later compiles on first use.

import { ParamBlock, ParamFields, PARAMS_DIRECTIVE } from './params.js';

/** A registered kernel module: what `gpu().dispatch({ kernel, params })` runs. */
export interface Kernel<F extends ParamFields = ParamFields> {
  /** registry name, e.g. 'matmul:tiled'; keys the pipeline cache */
  readonly name: string;
  /** the file the code came from, for error messages, e.g. 'kernels/matmul.wgsl' */
  readonly file: string;
  /** the WGSL, with the parameter block inserted */
  readonly code: string;
  readonly params: ParamBlock<F>;
}

export interface KernelSpec<F extends ParamFields> {
  name: string;
  /** WGSL with one `//#params` line where the uniform struct and binding 0 go */
  code: string;
  /** default `kernels/<name>.wgsl` */
  file?: string;
  params: ParamBlock<F>;
}

const kernels = new Map<string, Kernel>();

/**
 * Register a kernel module (or return the one registered under this name with the same code and
 * block). Throws when the name is taken by other code, or when the code has no `//#params` line,
 * more than one, or declares `struct P` itself.
 */
export function registerKernel<F extends ParamFields>(spec: KernelSpec<F>): Kernel<F> {
  const file = spec.file ?? `kernels/${spec.name}.wgsl`;
  const prev = kernels.get(spec.name);
  if (prev) {
    if (prev.params !== (spec.params as unknown) || prev.code !== insertParams(spec.code, spec.params, file)) {
      throw new Error(`focusnet: kernel '${spec.name}' registered twice with different code or parameters`);
    }
    return prev as unknown as Kernel<F>;
  }
  const k: Kernel<F> = { name: spec.name, file, code: insertParams(spec.code, spec.params, file), params: spec.params };
  kernels.set(spec.name, k as unknown as Kernel);
  return k;
}

function insertParams(code: string, params: ParamBlock, file: string): string {
  const lines = code.split('\n');
  const at = lines.flatMap((l, i) => (PARAMS_DIRECTIVE.test(l) ? [i] : []));
  if (at.length !== 1) throw new Error(`${file}: expected one '//#params' line (where the uniform block '${params.name}' goes), found ${at.length}`);
  const own = lines.findIndex((l) => /^\s*struct\s+P\b/.test(l));
  if (own >= 0) throw new Error(`${file}:${own + 1}: declares struct P itself; the uniform block comes from the '${params.name}' declaration (//#params)`);
  lines[at[0]] = params.wgsl;
  return lines.join('\n');
}

export function kernelByName(name: string): Kernel {
  const k = kernels.get(name);
  if (!k) throw new Error(`focusnet: unknown kernel module '${name}' (not registered)`);
  return k;
}

export function hasKernel(name: string): boolean {
  return kernels.has(name);
}

export function allKernels(): Kernel[] {
  return [...kernels.values()];
}
