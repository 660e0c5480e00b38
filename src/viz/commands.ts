// `focusnet cam` and `focusnet report` (filled in by the visualization work stream).
export async function runCam(_args: string[]): Promise<number> {
  console.error('focusnet cam: not implemented yet');
  return 2;
}
export async function runReport(_args: string[]): Promise<number> {
  console.error('focusnet report: not implemented yet');
  return 2;
}
