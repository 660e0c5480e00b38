// What the WebGPU adapter of this machine offers, as JSON on stdout: adapter info, every
// feature, the limits, and the same with Dawn's opt-in toggles (allow_unsafe_apis for
// chromium-experimental-subgroup-matrix, vulkan_enable_f16_on_nvidia for shader-f16 on NVIDIA's
// Vulkan driver), including the subgroup-matrix configurations where the adapter lists them.
// Run by scripts/gpu-check.sh first, so a short session on a GPU records what it can use
// (issue 15 items 2 and 3). Needs only node_modules/webgpu, not the build.
//   node scripts/gpu-info.mjs > info.json
import { create, globals } from 'webgpu';

Object.assign(globalThis, globals);

/** Every own and inherited enumerable-or-getter property of a Dawn object, as plain JSON. */
function plain(o) {
  if (o === null || typeof o !== 'object') return o;
  if (Array.isArray(o)) return o.map(plain);
  const r = {};
  for (let p = o; p && p !== Object.prototype; p = Object.getPrototypeOf(p)) {
    for (const k of Object.getOwnPropertyNames(p)) {
      if (k === 'constructor' || k in r) continue;
      try {
        const v = o[k];
        if (typeof v !== 'function') r[k] = plain(v);
      } catch (e) {
        r[k] = `<${e.message}>`;
      }
    }
  }
  return r;
}

async function probe(flags) {
  const gpu = create(flags);
  const out = { flags };
  try {
    const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
    if (!adapter) return { ...out, adapter: null };
    out.info = plain(adapter.info);
    out.features = [...adapter.features].map(String).sort();
    out.limits = plain(adapter.limits);
    // ask for the opt-in features to see whether a device really gets them
    const wanted = ['shader-f16', 'subgroups', 'chromium-experimental-subgroup-matrix', 'timestamp-query'].filter((f) => adapter.features.has(f));
    try {
      const device = await adapter.requestDevice({ requiredFeatures: wanted });
      out.deviceFeatures = [...device.features].map(String).sort();
      device.destroy();
    } catch (e) {
      out.deviceError = e.message;
    }
  } catch (e) {
    out.error = e.message;
  }
  return out;
}

const result = {
  date: new Date().toISOString(),
  node: process.version,
  plain: await probe([]),
  toggles: await probe(['enable-dawn-features=allow_unsafe_apis,vulkan_enable_f16_on_nvidia']),
};
console.log(JSON.stringify(result, null, 2));
process.exit(0);
