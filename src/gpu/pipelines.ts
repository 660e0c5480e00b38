// Shader modules and compute pipelines. Modules are compiled from the kernel registry (all of
// them at init, with WGSL errors thrown as file:line:col; a module registered later compiles on
// first use and its errors surface at the next check). Pipelines are cached by module, entry
// point and pipeline-overridable constants: shapes travel in uniforms, so a new batch size
// compiles nothing.

import { allKernels, kernelByName, Kernel } from './kernels.js';
import { ErrorLog, compileError } from './error-log.js';

export class PipelineCache {
  private modules = new Map<string, GPUShaderModule>();
  private pipelines = new Map<string, GPUComputePipeline>();
  private layouts = new WeakMap<GPUComputePipeline, GPUBindGroupLayout>();

  constructor(private readonly device: GPUDevice, private readonly log: ErrorLog) {}

  /** Compile every registered kernel module and throw the first WGSL error with file and line. */
  async compileAll(): Promise<void> {
    for (const k of allKernels()) await this.compile(k);
  }

  private async compile(k: Kernel): Promise<GPUShaderModule> {
    let mod = this.modules.get(k.name);
    if (mod) return mod;
    this.device.pushErrorScope('validation');
    mod = this.device.createShaderModule({ code: k.code, label: k.file });
    const info = await mod.getCompilationInfo();
    const err = await this.device.popErrorScope();
    const errors = info.messages.filter((m) => m.type === 'error');
    if (errors.length || err) throw compileError(k.file, errors, err?.message);
    this.modules.set(k.name, mod);
    return mod;
  }

  private moduleSync(name: string): GPUShaderModule {
    let mod = this.modules.get(name);
    if (!mod) {
      // registered after init (generated or lazily registered code): errors surface at the next check
      const k = kernelByName(name);
      mod = this.device.createShaderModule({ code: k.code, label: k.file });
      this.modules.set(name, mod);
      this.log.watchCompile(mod.getCompilationInfo(), k.file);
    }
    return mod;
  }

  pipeline(module: string, entry = 'main', constants?: Record<string, number>): GPUComputePipeline {
    let key = module + '|' + entry;
    if (constants) for (const k of Object.keys(constants).sort()) key += `|${k}=${constants[k]}`;
    let p = this.pipelines.get(key);
    if (!p) {
      p = this.device.createComputePipeline({
        layout: 'auto',
        label: `${module}:${entry}`,
        compute: { module: this.moduleSync(module), entryPoint: entry, constants },
      });
      this.pipelines.set(key, p);
    }
    return p;
  }

  layout(p: GPUComputePipeline): GPUBindGroupLayout {
    let l = this.layouts.get(p);
    if (!l) this.layouts.set(p, (l = p.getBindGroupLayout(0)));
    return l;
  }

  get size(): number {
    return this.pipelines.size;
  }
}
