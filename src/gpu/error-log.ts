// Error attribution: GPU errors arrive asynchronously (error-scope promises, uncaptured-error
// events, device loss, compilation info of modules compiled after init). The log collects
// them without ever awaiting per dispatch, and `check()` (at readback and sync) awaits what was
// collected and throws the root cause first: a WGSL compile error of a late module (with
// file:line), then a validation or out-of-memory error caught by a scope (naming the batch's
// kernels, or the exact kernel with checkEachDispatch), then an uncaptured error.

import { GpuError, ShaderCompileError } from '../errors.js';

export class ErrorLog {
  private checks: Promise<void>[] = [];
  private scoped: Error | null = null;
  /** an error no scope caught (usually the invalid command buffer that follows a scoped one) */
  private uncaptured: Error | null = null;
  /** a WGSL compile error of a module compiled after init (the root cause of its pipeline's errors) */
  private compile: Error | null = null;
  /** why the device was lost, once it was */
  lostReason: string | null = null;
  /** called after an error was thrown (the batch may have cached invalid bind groups) */
  onThrow: () => void = () => {};

  /** Record the outcome of an error scope popped for the kernels named `label`. */
  watch(scope: Promise<GPUError | null>, kind: string, label: string): void {
    this.checks.push(
      scope.then((e) => {
        if (e && !this.scoped) this.scoped = new GpuError(kind, label, e.message);
      }),
    );
  }

  /** Record the compilation messages of a module compiled after init. */
  watchCompile(info: Promise<GPUCompilationInfo>, file: string): void {
    this.checks.push(
      info.then((i) => {
        const errors = i.messages.filter((x) => x.type === 'error');
        if (errors.length && !this.compile) this.compile = compileError(file, errors);
      }),
    );
  }

  /** An uncaptured error event; `kernels` names what the open batch holds. */
  uncapturedError(message: string, kernels: string): void {
    if (!this.uncaptured) this.uncaptured = new GpuError('error', kernels || '?', message);
  }

  /** Throw if the device is lost (before encoding more work for it). */
  throwIfLost(kernels: string): void {
    if (this.lostReason) throw new GpuError('device lost', kernels || '-', this.lostReason);
  }

  /** Await every collected check, then throw the first error found. */
  async check(): Promise<void> {
    if (this.checks.length) {
      const checks = this.checks;
      this.checks = [];
      await Promise.all(checks);
    }
    this.throwIfLost('-');
    this.throwIfFailed();
  }

  /** Throw a pending error found so far, without waiting. */
  throwIfFailed(): void {
    const e = this.compile ?? this.scoped ?? this.uncaptured;
    this.compile = null;
    this.scoped = null;
    this.uncaptured = null;
    if (e) {
      this.onThrow();
      throw e;
    }
  }
}

/** A ShaderCompileError listing each message as file:line:col. */
export function compileError(file: string, errors: readonly GPUCompilationMessage[], fallback?: string): ShaderCompileError {
  const lines = errors.map((m) => `${file}:${m.lineNum}:${m.linePos}: error: ${m.message}`);
  if (!lines.length && fallback) lines.push(`${file}: ${fallback}`);
  return new ShaderCompileError(`focusnet: WGSL compile error\n${lines.join('\n')}`);
}

/** A short name for the kernels of a failed batch. */
export function batchNames(labels: readonly string[]): string {
  if (!labels.length) return 'copy';
  const uniq = [...new Set(labels)];
  return uniq.length > 8 ? `one of ${uniq.slice(0, 8).join(', ')}, …` : uniq.length > 1 ? `one of ${uniq.join(', ')}` : uniq[0];
}
