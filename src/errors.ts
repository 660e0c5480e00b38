// Every error class of the library, at the bottom of the stack (no imports): each names what
// failed (the kernel, the op and its shapes, the file, the flag) and what to do about it.
//
//   FocusnetError                 the base of them all
//   ├─ NoAdapterError             no WebGPU adapter / device on this machine
//   ├─ ShaderCompileError         a WGSL kernel did not compile (file:line:col)
//   ├─ GpuError                   validation error, out-of-memory or device loss of a dispatch
//   ├─ OpError                    bad arguments to an op (names the op, shapes and dtypes)
//   └─ InputError                 bad input from the user: the command line exits with status 2
//      ├─ ArgError                a flag or option (names it)
//      └─ DataError               a file or folder (names it: `<file>: <what is wrong>`)

export class FocusnetError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FocusnetError';
  }
}

/** No WebGPU adapter or device could be had on this machine. */
export class NoAdapterError extends FocusnetError {
  constructor(detail: string, hint = NODE_HINT) {
    super(`focusnet: no WebGPU adapter is available (${detail}).${hint ? `\n${hint}` : ''}`);
    this.name = 'NoAdapterError';
  }
}

/** What to install where Dawn (Node) finds no adapter. */
export const NODE_HINT =
  `  On Linux without a GPU install Mesa's software Vulkan driver (lavapipe), Mesa >= 23:\n` +
  `    Debian 13: apt-get install -y mesa-vulkan-drivers libvulkan1\n` +
  `    Debian 12: apt-get install -y -t bookworm-backports mesa-vulkan-drivers libvulkan1\n` +
  `  or run scripts/setup.sh, which does this for you.`;

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

/** Bad input from the user (a flag, a file); the command line exits with status 2. */
export class InputError extends FocusnetError {
  constructor(message: string) {
    super(message);
    this.name = 'InputError';
  }
}

/** A bad command-line flag or option; the message names it. */
export class ArgError extends InputError {
  constructor(message: string) {
    super(message);
    this.name = 'ArgError';
  }
}

/** A bad input file or folder; the message starts with its path. */
export class DataError extends InputError {
  readonly file: string;
  constructor(file: string, message: string) {
    super(`${file}: ${message}`);
    this.name = 'DataError';
    this.file = file;
  }
}
