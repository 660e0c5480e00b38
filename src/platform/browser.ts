// The browser host: navigator.gpu, no environment (settings on globalThis.FOCUSNET_ENV), no file
// system (hostFiles() then says which function needs Node and what a page uses instead), '/'
// path strings (pathe) and the console. Imported only by the browser entry (src/index.browser.ts).
import { basename, dirname, join, relative, resolve } from 'pathe';
import { setPlatform, type Terminal } from './platform.js';

/** Printed with NoAdapterError in a page: how to get WebGPU there. */
export const BROWSER_HINT =
  `  WebGPU needs a browser that has it switched on, and a secure context (an https:// page, or\n` +
  `  http://localhost / 127.0.0.1; not file://):\n` +
  `    Chrome and Edge 113+ on Windows, macOS and ChromeOS, 121+ on Android: on by default;\n` +
  `    Chrome / Chromium on Linux: start it with --enable-unsafe-webgpu (with a GPU, also\n` +
  `      --enable-features=Vulkan), or turn on chrome://flags/#enable-unsafe-webgpu;\n` +
  `    Firefox 141+ on Windows: on by default; elsewhere set dom.webgpu.enabled in about:config;\n` +
  `    Safari 26+ (macOS, iOS and iPadOS 26): on by default.\n` +
  `  chrome://gpu (Chromium) lists WebGPU's status and why an adapter was refused.`;

/** What a page uses instead of a library function that needs files, by the function's name. */
const INSTEAD: [RegExp, string][] = [
  [/^io\.saveSafetensors$/, 'read the tensors (train.toHost), encode them with io.encodeSafetensors(...) and offer the bytes as a download (a Blob and an <a download> link).'],
  [/^io\./, "fetch() the file (or read it from an <input type=\"file\">) and pass its bytes to io.decodeSafetensors(bytes, name)."],
  [/^train\.(saveModelFile|saveCheckpoint|writeFileAtomic)$/, 'encode the model with train.encodeModelFile(model, metadata) and offer the bytes as a download (a Blob and an <a download> link); `focusnet eval` accepts the file.'],
  [/^train\.(readCheckpoint|readCheckpointInfo|loadModelFile|readSafetensorsFile)$/, "fetch() the file's bytes and read them with train.checkpointFromBytes(bytes, name), then train.modelFromCheckpoint(checkpoint, { arch, numClasses, inChannels, imageSize })."],
  [/^(train\.(train|prepareData)|data\.)/, 'fetch() the data files and build the data set from their bytes (data.idxDataset, data.cifar10Dataset, data.cifar100Dataset, data.decodeImageBytes); train with the same pieces: train.createModel, optim.SGD, losses, train.runBatches, train.evaluate (docs/browser.md).'],
  [/^viz\./, 'compute the maps with viz.classActivationMaps and draw them with viz.camFigure or a viz.Canvas; canvas.toPng() gives PNG bytes for an <img> (a Blob URL) or a download.'],
  [/^experiment\./, 'run experiments with Node (`focusnet experiment`).'],
];

const consoleTerminal: Terminal = {
  isTTY: false,
  write: (text) => console.log(text.replace(/\n$/, '')),
  bar: () => null,
};

setPlatform({
  name: 'browser',
  webgpu: () => (globalThis as { navigator?: { gpu?: GPU } }).navigator?.gpu ?? null,
  noAdapterHint: BROWSER_HINT,
  backend: 'browser',
  env: (name) => (globalThis as { FOCUSNET_ENV?: Record<string, string | undefined> }).FOCUSNET_ENV?.[name],
  release() {},
  files: null,
  noFilesHint: (caller) => INSTEAD.find(([re]) => re.test(caller))?.[1] ?? 'fetch() what it reads and pass the bytes to the functions that take bytes (io.decodeSafetensors, data.idxDataset, train.checkpointFromBytes); offer what it writes as a download.',
  paths: { join, dirname, basename, resolve, relative },
  terminal: consoleTerminal,
});
