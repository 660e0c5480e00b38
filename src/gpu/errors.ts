// Error types raised by the GPU layer. Each names what failed (kernel, file, adapter).

export class FocusnetError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FocusnetError';
  }
}

/** No WebGPU adapter or device could be had on this machine. */
export class NoAdapterError extends FocusnetError {
  constructor(detail: string) {
    super(
      `focusnet: no WebGPU adapter is available (${detail}).\n` +
        `  On Linux without a GPU install Mesa's software Vulkan driver (lavapipe), Mesa >= 23:\n` +
        `    Debian 13: apt-get install -y mesa-vulkan-drivers libvulkan1\n` +
        `    Debian 12: apt-get install -y -t bookworm-backports mesa-vulkan-drivers libvulkan1\n` +
        `  or run scripts/setup.sh, which does this for you.`,
    );
    this.name = 'NoAdapterError';
  }
}

/** A WGSL kernel failed to compile; names the file and line. */
export class ShaderCompileError extends FocusnetError {
  constructor(message: string) {
    super(message);
    this.name = 'ShaderCompileError';
  }
}

/** A validation error, out-of-memory or device loss raised by a dispatch; names the kernel. */
export class GpuError extends FocusnetError {
  readonly kernel: string;
  constructor(kind: string, kernel: string, message: string) {
    super(`focusnet: GPU ${kind} in kernel '${kernel}': ${message}`);
    this.name = 'GpuError';
    this.kernel = kernel;
  }
}

/** Bad arguments to an op: names the op and the offending shapes or dtypes. */
export class OpError extends FocusnetError {
  constructor(op: string, message: string) {
    super(`${op}: ${message}`);
    this.name = 'OpError';
  }
}
