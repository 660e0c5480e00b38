// The browser test harness in one import: a static server, headless Chromium with WebGPU, and
// screenshot checks. See server.mjs, chromium.mjs and png.mjs, and docs/browser.md.
export { serve } from './server.mjs';
export { openBrowser, chromiumPath, adapterInfo, within, launchArgs, WEBGPU_ARGS, CANVAS_ARGS, OFFLINE_ARGS } from './chromium.mjs';
export { nonBlank, pngStats } from './png.mjs';
export { setUpSuite } from './suite.mjs';
