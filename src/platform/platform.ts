// The seam between the engine and the host it runs on (Node or a browser page). Everything in
// the library's import graph (src/api.ts and all it imports) is platform-free: what only a
// host has (its WebGPU entry point, environment variables, files and folders, path strings,
// the terminal) is reached through `platform()` and nothing else. Each entry point installs
// its host's implementation once, before any `init()`: src/platform/node.ts from the Node
// entry (src/index.ts), src/platform/browser.ts from the browser entry (src/index.browser.ts).
// Only those two files, the entry points and the CLI import Node's modules or `navigator`.

/** What the entry types of a folder listing and a stat() answer (Node's Dirent and Stats fit as they are). */
export interface EntryType {
  isFile(): boolean;
  isDirectory(): boolean;
  isSymbolicLink(): boolean;
}

export interface FileStat extends EntryType {
  /** bytes */
  readonly size: number;
}

export interface FolderEntry extends EntryType {
  readonly name: string;
}

/**
 * The host's file system. Failures throw the host's own error (in Node an Error with `code`
 * ENOENT, EACCES, ...): callers turn them into DataErrors naming the path.
 */
export interface HostFiles {
  /** A whole file. */
  readBytes(path: string): Uint8Array;
  /** A whole file as UTF-8 text. */
  readText(path: string): string;
  /** Bytes [offset, offset + length) of a file; fewer when it ends first. */
  readRange(path: string, offset: number, length: number): Uint8Array;
  /** Create or replace a file (plain write: for files nothing depends on while half-written). */
  write(path: string, data: Uint8Array | string): void;
  /** Create or replace a file atomically: a temporary file in the same folder, flushed, renamed over `path`. */
  writeAtomic(path: string, data: Uint8Array | string): void;
  /** Append text to a file (created when missing). */
  append(path: string, text: string): void;
  /** A folder's entries, sorted by name, each with its own type (a symbolic link is a link). */
  list(dir: string): FolderEntry[];
  /** What is at `path`, following symbolic links (throws when nothing is, or a link is broken). */
  stat(path: string): FileStat;
  /** What is at `path` itself (a symbolic link is a link). */
  lstat(path: string): FileStat;
  /** Whether `path` exists (following links: a broken link does not). */
  exists(path: string): boolean;
  /** Throws unless `path` can be read (or written). */
  access(path: string, mode: 'read' | 'write'): void;
  /**
   * Create a folder. `recursive`: its missing parents too, one level at a time (an existing
   * folder is fine); never hangs on a path under /proc, as Node 20's recursive mkdirSync does.
   */
  mkdir(path: string, opts?: { recursive?: boolean }): void;
  /** Remove a file, or (`recursive`) a folder and what it holds; nothing there is fine. */
  remove(path: string, opts?: { recursive?: boolean }): void;
  /** A new empty folder in the host's temporary folder, its name starting with `prefix`. */
  tempDir(prefix: string): string;
  /** The canonical path (links resolved); throws when nothing is there. */
  realpath(path: string): string;
  /** The name of the kernel file system `path` is on when it holds no files (procfs, sysfs, cgroupfs, …), else undefined. */
  kernelFileSystem(path: string): string | undefined;
  /** This process's id (names temporary files), and whether another process is alive (stale temporary files). */
  readonly pid: number;
  processAlive(pid: number): boolean;
}

/** Path strings, as the host writes them (node:path in Node). */
export interface HostPaths {
  join(...parts: string[]): string;
  dirname(path: string): string;
  basename(path: string, suffix?: string): string;
  /** An absolute path (against the working folder in Node). */
  resolve(...parts: string[]): string;
  relative(from: string, to: string): string;
}

/** Where progress and notes go: stderr in Node, the console in a page. */
export interface Terminal {
  /** whether it is an interactive terminal (a progress bar rather than plain lines) */
  readonly isTTY: boolean;
  /** write text as it is (lines end in '\n') */
  write(text: string): void;
  /**
   * A progress bar: `format` as cli-progress takes it ({bar}, {value}, {total},
   * {eta_formatted} and the caller's {fields}); null where the host has none.
   */
  bar(format: string, total: number, fields: Record<string, string>): ProgressBar | null;
}

export interface ProgressBar {
  update(done: number, fields: Record<string, string>): void;
  stop(): void;
}

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
  /** The file system; null in a page (reach it through hostFiles(), which says what to do instead). */
  readonly files: HostFiles | null;
  /** What a page uses instead of `caller` (a library function that reads or writes files). */
  noFilesHint(caller: string): string;
  readonly paths: HostPaths;
  readonly terminal: Terminal;
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
