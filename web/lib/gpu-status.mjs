// WebGPU for the page: init() once, and say plainly what the visitor has. Without navigator.gpu
// or without an adapter (the library's NoAdapterError, whose message carries the how-to for each
// browser) the notice at the top says so and how to turn WebGPU on; a device lost later is
// reported the same way. Bounded: an adapter request that never answers is reported after 20 s.
import { $, within } from './dom.mjs';

const TIMEOUT_MS = 20_000;
const STUCK_HINT = '  Reload the page, or restart the browser; chrome://gpu (Chromium) shows WebGPU\'s status and why an adapter was refused.';

/** Start WebGPU; returns { ok: true, info } or { ok: false, reason, hint }. Never throws. */
export async function startGpu(fn) {
  const status = $('gpu-status');
  try {
    const g = await within(fn.init(), TIMEOUT_MS, `focusnet: no WebGPU adapter is available (the browser did not answer the adapter request within ${TIMEOUT_MS / 1000} s).\n${STUCK_HINT}`);
    const i = g.info;
    const name = [i.vendor, i.architecture].filter(Boolean).join(' ') || 'an adapter';
    status.textContent = `WebGPU on ${name}${i.description ? ` (${i.description})` : ''}` + (i.isSoftware ? ': a software adapter (no GPU), so everything here is slow; keep the sizes small.' : '.');
    status.className = `gpu-status ${i.isSoftware ? 'software' : 'ok'}`;
    g.device.lost.then((l) => {
      if (l.reason === 'destroyed') return;
      noGpu(`The GPU device was lost (${l.reason || 'unknown'}: ${l.message || 'no message'}). What is shown stays; reload the page to compute again.`, '');
    });
    document.body.dataset.gpu = 'ready';
    return { ok: true, info: i };
  } catch (e) {
    const text = e instanceof Error ? e.message : String(e);
    const [first, ...rest] = text.split('\n');
    const reason = plainReason(first);
    const hint = rest.join('\n').replace(/^ {2}/gm, '');
    noGpu(reason, hint);
    return { ok: false, reason, hint };
  }
}

/** "focusnet: no WebGPU adapter is available (detail)." → a sentence for people. */
function plainReason(line) {
  const detail = /\((.*)\)\.?$/.exec(line)?.[1];
  const secure = window.isSecureContext ? '' : ' This page is not in a secure context: WebGPU needs https://, or http://localhost or 127.0.0.1 (not file://).';
  if (!navigator.gpu) return `This browser has no WebGPU (navigator.gpu is missing).${secure}`;
  if (detail && /returned null/.test(detail)) return `This browser has WebGPU, but it offered no adapter (requestAdapter() returned null): WebGPU is switched off, or no GPU it accepts was found.${secure}`;
  return `WebGPU did not start: ${detail ?? line}.${secure}`;
}

function noGpu(reason, hint) {
  const status = $('gpu-status');
  status.textContent = 'No WebGPU: nothing on this page can run (see the note below).';
  status.className = 'gpu-status bad';
  $('no-gpu-reason').textContent = reason;
  const h = $('no-gpu-hint');
  h.textContent = hint;
  h.hidden = !hint;
  $('no-gpu').hidden = false;
  document.body.dataset.gpu = 'none';
}
