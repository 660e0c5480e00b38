// Browser benchmark: `npm run bench -- browser [--quick] [--only lenet|loss] [--warmup N] [--reps N]`.
// In headless Chromium (test/browser/ harness) on its WebGPU adapter, in one page: TensorFlow.js
// 4.22's WebGPU backend doing a LeNet-5 training step (batch 64 and 256, images/s) and the
// focus-picking loss forward + backward composed from its ops at (1024, 1000), ms per call; and
// focusnet's browser build doing the same (bench/browser/ours.mjs: its LeNet-5 step and its fused
// loss), through oursLeNetStep / oursFocusLoss below. Medians of synced steps after warm-up, and the
// CPU time all the browser's processes spent per timed step (SwiftShader runs on the CPU; this
// moves far less than wall time when others share the cores). Each library's runs of one case
// follow each other. Prints a table, writes bench/out/browser.json.
import { fileURLToPath } from 'node:url';
import { loadavg } from 'node:os';
import { existsSync, readFileSync } from 'node:fs';
import { median, option, printTable, writeJson } from './common.mjs';
import { serve, openBrowser, chromiumPath, adapterInfo } from '../test/browser/harness.mjs';

const NOT_MEASURED = 'not measured';
const modules = fileURLToPath(new URL('../node_modules/', import.meta.url));

/**
 * Time a case prepared in the page: `warmup` steps, then `reps` timed steps in one call of
 * `steps` (a page function n => { ms: [...], losses: [...] }), with the CPU time all the
 * browser's processes spent on the timed ones. → { ms, losses, cpuMs (per step) }
 */
async function timeCase({ browser, page }, steps, { warmup, reps }) {
  const warm = warmup ? await page.evaluate(steps, warmup) : { losses: [] };
  const c0 = browser.cpuMs();
  const r = await page.evaluate(steps, reps);
  return { ms: r.ms, losses: [...warm.losses, ...r.losses], cpuMs: (browser.cpuMs() - c0) / reps };
}

const oursSteps = (n) => window.oursBench.steps(n);

/**
 * focusnet's LeNet-5 training step in the same page, batch `batch` (bench/browser/ours.mjs): what
 * tfjs.mjs's setupLenet + steps do (same model, loss, SGD momentum 0.9, fixed batch, one sync per
 * step that counts GPU time); timeCase(ctx, ...)'s result.
 */
async function oursLeNetStep(ctx, batch, opts) {
  const shape = await ctx.page.evaluate((b) => window.oursBench.setupLenet(b), batch);
  if (shape.params !== 61706 || shape.outShape.join() !== `${batch},10`) throw new Error(`focusnet's LeNet-5 has ${shape.params} parameters and logits ${shape.outShape} (expected 61,706 and ${batch},10)`);
  const r = await timeCase(ctx, oursSteps, opts);
  await ctx.page.evaluate(() => window.oursBench.teardown());
  return r;
}

/** focusnet's fused focus-picking loss, forward + backward at (B, N), in the same page; timeCase(ctx, ...)'s result. */
async function oursFocusLoss(ctx, B, N, opts) {
  await ctx.page.evaluate(([b, n]) => window.oursBench.setupFocusLoss(b, n), [B, N]);
  const r = await timeCase(ctx, oursSteps, opts);
  await ctx.page.evaluate(() => window.oursBench.teardown());
  return r;
}

const fmt = (x, d = 1) => x.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d });

/** A table row for one library's result of one case; `perSecond` turns ms into images/s. */
function row(what, library, r, perSecond) {
  if (!r) return { case: what, library, result: NOT_MEASURED };
  const ms = median(r.ms);
  const result = perSecond ? `${fmt(perSecond / (ms / 1000), 1)} images/s` : `${fmt(ms, 2)} ms`;
  return {
    case: what, library, result, 'median ms': fmt(ms, 2), 'min–max ms': `${fmt(Math.min(...r.ms), 2)}–${fmt(Math.max(...r.ms), 2)}`,
    'CPU ms/step': fmt(r.cpuMs, 0), steps: r.ms.length, _ms: ms,
  };
}

/** TF.js's row, ours, and the speed ratios (TF.js / ours, wall median and CPU) when both were measured. */
function pair(what, tfjs, ours, perSecond) {
  const t = row(what, 'TF.js 4.22 webgpu', tfjs, perSecond);
  const o = row(what, 'focusnet', ours, perSecond);
  o['speed vs TF.js (wall; CPU)'] = ours ? `${fmt(t._ms / o._ms, 2)}×; ${fmt(tfjs.cpuMs / ours.cpuMs, 2)}×` : '—';
  return [t, o];
}

export async function run(args) {
  const quick = args.includes('--quick');
  const only = option(args, 'only', null);
  const warmup = Number(option(args, 'warmup', quick ? 1 : 2));
  const reps = Number(option(args, 'reps', quick ? 2 : 5));
  if (only && !['lenet', 'loss'].includes(only)) { console.error(`bench browser: --only must be lenet or loss, not "${only}"`); process.exit(2); }
  if (!(Number.isInteger(warmup) && warmup >= 0 && Number.isInteger(reps) && reps >= 1)) { console.error('bench browser: --warmup must be a whole number ≥ 0 and --reps one ≥ 1'); process.exit(2); }
  if (!chromiumPath()) { console.error('bench browser: no Chromium found (scripts/setup.sh installs it; or set FOCUSNET_CHROMIUM)'); process.exit(2); }

  const dist = fileURLToPath(new URL('../dist/', import.meta.url));
  if (!existsSync(`${dist}browser.js`)) { console.error('bench browser: no dist/browser.js (npm run bench builds it; or node build.mjs)'); process.exit(2); }
  const server = await serve({
    root: fileURLToPath(new URL('./browser/', import.meta.url)),
    mounts: { '/tfjs/': `${modules}@tensorflow/tfjs/dist`, '/tfjs-webgpu/': `${modules}@tensorflow/tfjs-backend-webgpu/dist`, '/dist/': dist },
  });
  // no WebGPU canvas here, and its compositing flags looked to cost CPU time (docs/browser.md)
  const browser = await openBrowser({ timeout: 600_000, canvas: false });
  const rows = [];
  const results = {};
  try {
    const page = await browser.page(`${server.url}index.html`);
    const tfjs = await page.evaluate(() => window.tfjsBench.ready);
    await page.waitFor(() => !!window.oursBench);
    const ours = await page.evaluate(() => window.oursBench.ready);
    const adapter = await adapterInfo(page);
    if (typeof adapter === 'string') throw new Error(`no WebGPU adapter in the page: ${adapter}`);
    console.log(`Chromium ${browser.version}; adapter ${adapter.vendor} ${adapter.architecture}${adapter.isFallbackAdapter ? ' (fallback)' : ''}; TF.js ${tfjs.version} on ${tfjs.backend}; focusnet on ${ours.adapter.vendor} ${ours.adapter.architecture}; warmup ${warmup}, ${reps} timed steps; load average ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
    Object.assign(results, { chromium: browser.version, adapter, tfjs, focusnet: ours, warmup, reps });

    const ctx = { browser, page, server };
    const tfjsSteps = (n) => window.tfjsBench.steps(n);
    if (!only || only === 'lenet') {
      for (const batch of quick ? [64] : [64, 256]) {
        const shape = await page.evaluate((b) => window.tfjsBench.setupLenet(b), batch);
        if (shape.params !== 61706 || shape.outShape.join() !== `${batch},10`) throw new Error(`TF.js's LeNet-5 has ${shape.params} parameters and logits ${shape.outShape} (expected 61,706 and ${batch},10)`);
        const t = await timeCase(ctx, tfjsSteps, { warmup, reps });
        await page.evaluate(() => window.tfjsBench.teardown());
        const o = await oursLeNetStep(ctx, batch, { warmup, reps });
        results[`lenet5_b${batch}`] = { tfjs: t, focusnet: o ?? NOT_MEASURED };
        rows.push(...pair(`LeNet-5 step, batch ${batch}`, t, o, batch));
        console.log(`  lenet5 batch ${batch}: loss over ${t.losses.length} steps: TF.js ${t.losses[0].toFixed(4)} → ${t.losses.at(-1).toFixed(4)}, focusnet ${o.losses[0].toFixed(4)} → ${o.losses.at(-1).toFixed(4)}`);
      }
    }
    if (!only || only === 'loss') {
      const check = await page.evaluate(() => window.tfjsBench.checkFocusLoss());
      const tol = 1e-4 * Math.max(1, check.gradScale);
      if (!(check.lossErr < 1e-4 * Math.max(1, Math.abs(check.loss)) && check.gradErr < tol)) {
        throw new Error(`TF.js's composed focus loss disagrees with the float64 reference: loss error ${check.lossErr}, gradient error ${check.gradErr} (tolerance ${tol})`);
      }
      const [B, N] = [1024, 1000];
      await page.evaluate(([b, n]) => window.tfjsBench.setupFocusLoss(b, n), [B, N]);
      const t = await timeCase(ctx, tfjsSteps, { warmup, reps: reps + 2 });
      await page.evaluate(() => window.tfjsBench.teardown());
      const o = await oursFocusLoss(ctx, B, N, { warmup, reps: reps + 2 });
      // the same loss of the same inputs: TF.js's composed value and focusnet's fused one agree
      const [lt, lo] = [t.losses[0], o.losses[0]];
      if (!(Math.abs(lt - lo) <= 1e-4 * Math.max(1, Math.abs(lt)))) throw new Error(`the focus loss at (${B}, ${N}) is ${lt} in TF.js and ${lo} in focusnet: not the same work`);
      results.focus_loss_1024x1000 = { tfjs: t, focusnet: o ?? NOT_MEASURED, tfjsCheck: check };
      rows.push(...pair(`focus loss fwd+bwd (${B}, ${N})`, t, o));
      console.log(`  focus loss: TF.js composed matches the float64 reference (gradient error ${check.gradErr.toExponential(1)}, scale ${check.gradScale.toFixed(3)})`);
    }
    await page.close();
  } finally {
    await browser.close();
    await server.close();
  }
  printTable(rows, ['case', 'library', 'result', 'median ms', 'min–max ms', 'CPU ms/step', 'steps', 'speed vs TF.js (wall; CPU)']);
  const pkg = (name) => JSON.parse(readFileSync(`${modules}${name}/package.json`, 'utf8')).version;
  writeJson('browser', { ...results, versions: { tfjs: pkg('@tensorflow/tfjs'), tfjsWebgpu: pkg('@tensorflow/tfjs-backend-webgpu'), playwright: pkg('playwright-core') }, loadavg: loadavg() });
}
