// focusnet in a web page: navigator.gpu as the platform (src/platform/browser.ts), then the same
// public API as in Node. Built into dist/browser.js (one ES module, the WGSL embedded).
import './platform/browser.js';
export * from './api.js';
