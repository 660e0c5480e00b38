// Registry of WGSL kernel sources. Op modules register the file they embed
// (esbuild inlines kernels/*.wgsl as text); init() compiles every registered
// module once and reports WGSL errors with file and line.

export interface KernelSource {
  /** registry name, e.g. 'matmul' */
  name: string;
  /** file the code came from, for error messages, e.g. 'kernels/matmul.wgsl' */
  file: string;
  code: string;
}

const sources = new Map<string, KernelSource>();

export function registerKernel(name: string, code: string, file = `kernels/${name}.wgsl`): void {
  const prev = sources.get(name);
  if (prev && prev.code !== code) throw new Error(`kernel '${name}' registered twice with different code`);
  sources.set(name, { name, file, code });
}

export function kernelSource(name: string): KernelSource {
  const s = sources.get(name);
  if (!s) throw new Error(`focusnet: unknown kernel module '${name}' (not registered)`);
  return s;
}

export function hasKernel(name: string): boolean {
  return sources.has(name);
}

export function allKernels(): KernelSource[] {
  return [...sources.values()];
}
