// The seam between the engine and the host it runs on (Node or a browser page). The engine
// imports only this interface; each entry point installs its host's implementation once
// (src/platform/node.ts from the Node entry, src/platform/browser.ts from the browser entry),
// before any `init()`.

export interface Platform {
  readonly name: 'node' | 'browser';
  /** The WebGPU entry point: Dawn's in Node (with the given instance flags), navigator.gpu in a page; null when there is none. */
  webgpu(flags: readonly string[]): GPU | null;
  /** Why webgpu() returned null or threw, and what to do: printed with NoAdapterError. */
  readonly noAdapterHint: string;
  /** The graphics API Dawn uses here (vulkan, metal, d3d12), or the browser's ('browser'). */
  readonly backend: string;
  /** A FOCUSNET_* setting (environment variable in Node; none in a page unless set on globalThis.FOCUSNET_ENV). */
  env(name: string): string | undefined;
  /** Let go of the WebGPU instance (shutdown(): in Node, so the process can exit on its own). */
  release(): void;
  /**
   * Run a full garbage collection now, where the host allows it (Node: V8's gc); absent in a page.
   * The tensor layer asks for one when tensors dropped without dispose() pile up GPU memory that
   * the JavaScript heap does not show (src/tensor/loose.ts).
   */
  collectGarbage?(): void;
}

let installed: Platform | null = null;

/** Install the host's implementation (done by the package's entry points). */
export function setPlatform(p: Platform): void {
  installed = p;
}

export function platform(): Platform {
  if (!installed) throw new Error("focusnet: no platform installed: import the library through its package entry ('focusnet'), not an internal module");
  return installed;
}
