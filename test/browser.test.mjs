// The browser harness (test/browser/): headless Chromium gets a WebGPU adapter, runs a real
// compute shader with the right numbers, a WebGPU canvas shows in screenshots, screenshots are
// judged blank or not, a page's failures and hangs fail in bounded time with their message, and
// closing leaves no process behind.
// Skipped (reported as skipped, not passed) when no Chromium is installed.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { fileURLToPath } from 'node:url';
import { readFileSync, readdirSync } from 'node:fs';
import { PNG } from 'pngjs';
import { serve, openBrowser, chromiumPath, adapterInfo, nonBlank, pngStats, setUpSuite } from './browser/harness.mjs';

const pages = fileURLToPath(new URL('./browser/pages/', import.meta.url));
const ctx = {};

/** The message of what `promise` rejects with (fails when it resolves), and how long it took. */
async function rejection(promise) {
  const t0 = performance.now();
  try {
    await promise;
  } catch (e) {
    return { message: String(e.message), ms: performance.now() - t0 };
  }
  assert.unreachable('expected a rejection');
}

if (!chromiumPath()) {
  console.log(`browser tests skipped: no Chromium at ${process.env.FOCUSNET_CHROMIUM ?? '/usr/lib/chromium/chromium or /usr/bin/chromium'} (scripts/setup.sh installs it)`);
  test.skip('headless Chromium runs a WebGPU compute shader', () => {});
  test.skip('a page error, a console.error, a missing file and a hang each fail the call', () => {});
  test.skip('closing the browser leaves no process behind', () => {});
} else {
  const ready = setUpSuite(test, async () => {
    ctx.server = await serve({ root: pages });
    const t0 = performance.now();
    ctx.browser = await openBrowser({ timeout: 30_000 });
    ctx.launchMs = performance.now() - t0;
  }, async () => {
    await ctx.browser?.close().catch(() => {});
    await ctx.server?.close();
  });

  test('headless Chromium runs a WebGPU compute shader', async () => {
    await ready();
    const t0 = performance.now();
    const page = await ctx.browser.page(`${ctx.server.url}webgpu-double.html?n=1027`);
    const r = await page.waitFor(() => window.result);
    const pageMs = performance.now() - t0;
    assert.is(r.output.length, 1027);
    assert.ok(r.input.some((v) => Math.abs(v) > 1), 'inputs are not all small');
    for (let i = 0; i < r.input.length; i++) {
      if (r.output[i] !== 2 * r.input[i]) assert.unreachable(`output[${i}] = ${r.output[i]}, expected ${2 * r.input[i]}`);
    }
    const info = await adapterInfo(page);
    assert.type(info, 'object', `no adapter: ${info}`);
    assert.type(info.vendor, 'string');
    const png = await page.screenshot();
    const s = pngStats(png);
    assert.is(s.width, 800);
    assert.ok(nonBlank(png), `screenshot looks blank: ${JSON.stringify(s)}`);
    await page.close();
    console.log(`browser: Chromium ${ctx.browser.version}, adapter ${info.vendor} ${info.architecture}${info.isFallbackAdapter ? ' (fallback)' : ''}; launch ${ctx.launchMs.toFixed(0)} ms, page + compute + screenshot ${pageMs.toFixed(0)} ms`);
  });

  test('a WebGPU canvas shows in a screenshot', async () => {
    await ready();
    const page = await ctx.browser.page(`${ctx.server.url}webgpu-canvas.html`);
    await page.waitFor(() => window.done);
    const { width, data } = PNG.sync.read(await page.screenshot());
    let red = 0;
    for (let i = 0; i < data.length; i += 4) if (data[i] > 200 && data[i + 1] < 50 && data[i + 2] < 50) red++;
    assert.is(red, 200 * 200, `red pixels: ${red}`);
    const at = (x, y) => [...data.subarray((y * width + x) * 4, (y * width + x) * 4 + 3)];
    assert.equal(at(100, 100), [255, 0, 0]);
    assert.equal(at(300, 100), [255, 255, 255]);
    await page.close();
  });

  test('a blank page is judged blank', async () => {
    await ready();
    const page = await ctx.browser.page(`${ctx.server.url}blank.html`);
    const png = await page.screenshot();
    assert.not.ok(nonBlank(png), `blank page judged non-blank: ${JSON.stringify(pngStats(png))}`);
    assert.is(pngStats(png).colours, 1);
    await page.close();
  });

  test('a page error, a console.error, a missing file and a hang each fail the call', async () => {
    await ready();
    const open = (what) => ctx.browser.page(`${ctx.server.url}fails.html?what=${what}`, { timeout: 5000 });
    const cases = [
      ['throw', /uncaught Error: boom from the page/],
      ['reject', /rejected in the page/],
      ['console', /console\.error: an error logged by the page/],
      ['missing', /no-such-module\.mjs: HTTP 404/],
    ];
    for (const [what, re] of cases) {
      // the failure ends either the load or a wait on something that never comes
      let page;
      const r = await rejection((async () => { page = await open(what); await page.waitFor(() => false); })());
      assert.match(r.message, re, `${what}: ${r.message}`);
      assert.ok(r.ms < 4000, `${what}: took ${r.ms} ms`);
      await page?.close().catch(() => {});
    }
    const page = await open('none');
    const hung = await rejection(page.evaluate(() => window.hang(), null, { timeout: 500 }));
    assert.match(hung.message, /evaluate did not finish in 500 ms/);
    assert.ok(hung.ms < 2000, `a hang took ${hung.ms} ms to fail`);
    await page.close();
    const missing = await rejection(ctx.browser.page(`${ctx.server.url}no-such-page.html`));
    assert.match(missing.message, /no-such-page\.html: HTTP 404/);
  });

  test('without WebGPU the compute page fails, naming the reason', async () => {
    await ready();
    const b = await openBrowser({ webgpu: false });
    try {
      const r = await rejection((async () => { const page = await b.page(`${ctx.server.url}webgpu-double.html`); await page.waitFor(() => window.result); })());
      assert.match(r.message, /uncaught Error: requestAdapter\(\) returned null/);
    } finally {
      assert.equal(await b.close(), []);
    }
  });

  test('closing the browser leaves no process behind', async () => {
    await ready();
    const b = ctx.browser;
    ctx.browser = null;
    // an independent census: every live process whose command line names this browser's profile
    const profile = readFileSync(`/proc/${b.pid}/cmdline`, 'utf8').split('\0').find((a) => a.startsWith('--user-data-dir='));
    assert.ok(profile, 'the browser has a --user-data-dir');
    const census = () => readdirSync('/proc').filter((n) => /^\d+$/.test(n)).filter((n) => {
      try { return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${n}/stat`, 'utf8')) && readFileSync(`/proc/${n}/cmdline`, 'utf8').includes(profile); } catch { return false; }
    }).map(Number);
    const before = b.processes();
    const seen = census();
    assert.ok(seen.length >= 4, `expected the browser, zygotes, GPU process and renderers; found ${seen.length}`);
    for (const pid of seen) assert.ok(before.includes(pid), `process ${pid} of the browser is not in b.processes()`);
    const killed = await b.close();
    assert.equal(killed, [], `had to kill ${killed.join(', ')}`);
    assert.equal(b.processes(), []);
    assert.equal(census(), []);
  });
}

test.run();
