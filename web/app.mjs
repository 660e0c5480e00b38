// The demo page's entry: WebGPU first (a plain notice and how to turn it on when there is none),
// then the two views, the confusion explorer and training in the page. When the demo server
// serves a run and its test images, the explorer opens them at once.
// window.focusnetDemo = { explorer, trainer, gpu } for the console (and the tests).
import * as fn from 'focusnet';
import { startGpu } from './lib/gpu-status.mjs';
import { setupTabs } from './lib/tabs.mjs';
import { fetchServed } from './lib/sources.mjs';
import { Explorer } from './explorer.mjs';
import { Trainer } from './trainer.mjs';

const gpu = await startGpu(fn);
const tabs = setupTabs();
const served = await fetchServed();
const explorer = new Explorer(fn, { gpu, served });
const trainer = new Trainer(fn, {
  gpu,
  served,
  onExplore: (source) => {
    tabs.show('explore');
    explorer.open(source);
  },
});
window.focusnetDemo = { explorer, trainer, gpu, served };
document.body.dataset.ready = 'true';
if (gpu.ok && explorer.canOpenServed && location.hash !== '#train') explorer.open();
