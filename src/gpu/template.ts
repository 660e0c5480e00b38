// Instantiates one `//#if NAME ... //#endif` block of a kernel file, blanking the
// other blocks line for line so compile errors keep the file's line numbers, and
// substituting placeholder words (e.g. EXPR) with generated WGSL.

export function instantiate(code: string, block: string | string[] | null, subst: Record<string, string> = {}): string {
  const blocks = new Set(block === null ? [] : Array.isArray(block) ? block : [block]);
  const lines = code.split('\n');
  const out: string[] = [];
  let active: string | null = null;
  for (const line of lines) {
    const m = /^\s*\/\/#if\s+(\w+)/.exec(line);
    if (m) {
      active = m[1];
      out.push('');
      continue;
    }
    if (/^\s*\/\/#endif/.test(line)) {
      active = null;
      out.push('');
      continue;
    }
    if (active !== null && !blocks.has(active)) {
      out.push('');
      continue;
    }
    let l = line;
    for (const [k, v] of Object.entries(subst)) l = l.replace(new RegExp(`\\b${k}\\b`, 'g'), v);
    out.push(l);
  }
  return out.join('\n');
}
