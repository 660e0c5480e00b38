// Workgroup grids: dispatches are capped at 65,535 workgroups per dimension (the WebGPU default
// limit), so a large 1-D launch folds into (x, y); kernels recover the linear index as
// `gid.x + gid.y * nw.x * WG`.

/** A 2-D grid of workgroups of size `wg` covering `n` invocations. */
export function grid(n: number, wg: number): [number, number] {
  const groups = Math.max(1, Math.ceil(n / wg));
  if (groups <= 65535) return [groups, 1];
  const y = Math.ceil(groups / 65535);
  return [Math.ceil(groups / y), y];
}
