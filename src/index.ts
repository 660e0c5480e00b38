// focusnet in Node: Dawn's WebGPU (npm `webgpu`) as the platform, then the public API.
import './platform/node.js';
export * from './api.js';
