// Headless Chromium with WebGPU, driven by playwright-core (the system browser; nothing is
// downloaded). Every page failure is collected and fails the next call on that page: an uncaught
// error or rejection in the page, a console.error, a failed or 4xx/5xx request, a renderer crash.
// Every wait is bounded, and closing kills whatever the browser left behind.
//
//   const b = await openBrowser();              // throws when no Chromium is installed
//   const page = await b.page(`${server.url}x.html`);
//   const r = await page.evaluate(() => window.result);
//   const png = await page.screenshot();
//   await b.close();                            // → pids it had to kill (normally [])
//
// Flags (Chromium 156, Debian 12): `--enable-unsafe-webgpu` is what makes an adapter appear
// (without it requestAdapter() gives null: "No available adapters"); playwright-core already
// passes `--headless`, `--no-sandbox` (needed as root), a fresh temporary `--user-data-dir`
// (removed on close) and the flags that keep it quiet (`--disable-background-networking`,
// `--disable-component-update`, `--disable-sync`, `--no-first-run`, ...). We add the flags a
// WebGPU canvas needs (CANVAS_ARGS), `--disable-quic` and a host resolver rule that fails every
// name but 127.0.0.1 at once, so no page or background service waits on the closed network.
// See docs/browser.md.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { chromium } from 'playwright-core';

/** The real binary first (the /usr/bin wrapper sources /etc/chromium.d: extensions, API keys). */
const CANDIDATES = ['/usr/lib/chromium/chromium', '/usr/bin/chromium'];

/** The Chromium to run: $FOCUSNET_CHROMIUM when set, else Debian's; null when none is installed. */
export function chromiumPath() {
  const env = process.env.FOCUSNET_CHROMIUM;
  if (env) return existsSync(env) ? env : null;
  return CANDIDATES.find((p) => existsSync(p)) ?? null;
}

export const WEBGPU_ARGS = ['--enable-unsafe-webgpu'];
/**
 * With these a WebGPU <canvas> shows in screenshots (compositing through SwiftShader's Vulkan,
 * like Dawn); without them getCurrentTexture() fails: "A valid external Instance reference no
 * longer exists." They need the Vulkan feature as well.
 */
export const CANVAS_ARGS = ['--use-vulkan=swiftshader', '--use-angle=swiftshader'];
const CANVAS_FEATURES = ['Vulkan'];
/**
 * Chromium keeps only the last --enable-features, and playwright-core passes its own before
 * ours, so launchArgs repeats them in the one it builds (SkipListAccountsWithoutGaiaCookies keeps
 * the browser off accounts.google.com).
 */
const PLAYWRIGHT_FEATURES = ['CDPScreenshotNewSurface', 'SkipListAccountsWithoutGaiaCookies'];
export const OFFLINE_ARGS = ['--disable-quic', '--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1'];

/** Linux's USER_HZ (the unit of /proc/PID/stat's times): 100 on every mainstream kernel. */
const CLOCK_TICKS = 100;

/** Requests that a browser makes on its own and whose 404 is no page failure. */
const IGNORED_URLS = [/\/favicon\.ico$/];

/** Reject with `message` (a string, or a function giving it) after `ms` unless `promise` settles first. */
export function within(promise, ms, message) {
  let timer;
  const timeout = new Promise((_, fail) => {
    timer = setTimeout(() => fail(new Error(typeof message === 'function' ? message() : message)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * Launch headless Chromium with WebGPU. `timeout` (ms) bounds the launch and is the default
 * for every page call; `args` are added to the flags above; `env` to the environment;
 * `webgpu: false` leaves WebGPU off (requestAdapter() gives null: for testing what a page says
 * then); `canvas: false` leaves out CANVAS_ARGS (a WebGPU canvas then fails; compute is
 * unchanged, the benchmark runs so); `echo` prints the pages' console (also FOCUSNET_BROWSER_LOG=1).
 */
export async function openBrowser({ timeout = 30_000, args = [], env = {}, webgpu = true, canvas = true, echo = !!process.env.FOCUSNET_BROWSER_LOG } = {}) {
  const executablePath = chromiumPath();
  if (!executablePath) throw new Error(`no Chromium at ${process.env.FOCUSNET_CHROMIUM ?? CANDIDATES.join(' or ')} (scripts/setup.sh installs it)`);
  // The crash handlers leave the browser's process group but keep this tag: close() finds them by it.
  const tag = randomUUID();
  const server = await chromium.launchServer({
    executablePath,
    headless: true,
    args: launchArgs({ webgpu, canvas, args }),
    env: { ...process.env, ...env, FOCUSNET_BROWSER_TAG: tag },
    timeout,
  });
  let browser;
  try {
    browser = await chromium.connect(server.wsEndpoint(), { timeout });
  } catch (e) {
    await server.kill();
    throw e;
  }
  return new Browser(server, browser, { tag, timeout, echo, executablePath });
}

/**
 * The flags for a launch: WebGPU unless `webgpu` is false, WebGPU canvases unless `canvas` is
 * false, the offline ones, then `args`, with one --enable-features that merges them all.
 */
export function launchArgs({ webgpu = true, canvas = true, args = [] } = {}) {
  const isFeatures = (a) => a.startsWith('--enable-features=');
  const withCanvas = webgpu && canvas;
  const features = new Set([...(withCanvas ? CANVAS_FEATURES : []), ...PLAYWRIGHT_FEATURES, ...args.filter(isFeatures).flatMap((a) => a.slice('--enable-features='.length).split(','))]);
  return [
    ...(webgpu ? WEBGPU_ARGS : []), ...(withCanvas ? CANVAS_ARGS : []), ...OFFLINE_ARGS,
    ...args.filter((a) => !isFeatures(a)), `--enable-features=${[...features].filter(Boolean).join(',')}`,
  ];
}

class Browser {
  constructor(server, browser, { tag, timeout, echo, executablePath }) {
    this.server = server;
    this.browser = browser;
    this.tag = tag;
    this.timeout = timeout;
    this.echo = echo;
    this.executablePath = executablePath;
    this.version = browser.version();
    this.pid = server.process().pid;
  }

  /**
   * Open `url` in a fresh context and wait for its load event. Options: `timeout` (ms, for this
   * page's calls), `allowConsole` (regexes of console.error texts that are no failure),
   * `viewport` ({ width, height }).
   */
  async page(url, { timeout = this.timeout, allowConsole = [], viewport = { width: 800, height: 600 } } = {}) {
    const context = await this.browser.newContext({ viewport });
    const page = new Page(await context.newPage(), context, { url, timeout, allowConsole, echo: this.echo });
    try {
      await page.goto(url);
    } catch (e) {
      await context.close().catch(() => {});
      throw e;
    }
    return page;
  }

  /** Live (not zombie) processes of this browser: its process group, and whatever carries its tag. */
  processes() {
    return browserProcesses(this.pid, `FOCUSNET_BROWSER_TAG=${this.tag}`);
  }

  /**
   * CPU ms (user + system) used so far by the browser's live processes: the difference over a
   * stretch of work is what it cost the machine, which moves far less than wall time when
   * other processes share the cores.
   */
  cpuMs() {
    const tick = 1000 / CLOCK_TICKS;
    let total = 0;
    for (const pid of this.processes()) {
      try {
        const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
        const f = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // f[0] is field 3 (state)
        total += (Number(f[11]) + Number(f[12])) * tick; // fields 14, 15: utime, stime
      } catch { /* exited meanwhile */ }
    }
    return total;
  }

  /**
   * Close the browser and wait (bounded) until all its processes are gone; kill what is left.
   * Returns the pids that had to be killed (an empty list when it shut down cleanly).
   */
  async close({ timeout = 10_000 } = {}) {
    try { await within(this.browser.close(), timeout, 'browser.close timed out'); } catch { /* killed below */ }
    try { await within(this.server.close(), timeout, 'browser server close timed out'); } catch { await this.server.kill().catch(() => {}); }
    const end = Date.now() + timeout;
    let left = this.processes();
    while (left.length && Date.now() < end) {
      await new Promise((r) => setTimeout(r, 100));
      left = this.processes();
    }
    for (const pid of left) { try { process.kill(pid, 'SIGKILL'); } catch { /* already gone */ } }
    return left;
  }
}

class Page {
  constructor(pw, context, { url, timeout, allowConsole, echo }) {
    this.pw = pw;
    this.context = context;
    this.url = url;
    this.timeout = timeout;
    /** Console messages, in order: { type, text }. */
    this.logs = [];
    /** What went wrong in the page, in order (messages). */
    this.failures = [];
    this.failed = new Promise((_, fail) => { this.fail = fail; });
    this.failed.catch(() => {}); // observed by the calls that race it
    pw.setDefaultTimeout(timeout + 5000); // a backstop: the calls below are bounded by guard() and say so
    const failure = (what) => {
      this.failures.push(what);
      this.fail(this.error(what));
    };
    pw.on('console', (m) => {
      const entry = { type: m.type(), text: m.text() };
      this.logs.push(entry);
      if (echo) console.log(`[page ${entry.type}] ${entry.text}`);
      if (entry.type === 'error' && !allowConsole.some((re) => re.test(entry.text)) && !/^Failed to load resource/.test(entry.text)) failure(`console.error: ${entry.text}`);
    });
    pw.on('pageerror', (e) => failure(`uncaught ${e.stack || e.message || e}`));
    pw.on('crash', () => failure('the page crashed'));
    pw.on('requestfailed', (r) => { if (!IGNORED_URLS.some((re) => re.test(r.url()))) failure(`${r.method()} ${r.url()}: ${r.failure()?.errorText}`); });
    pw.on('response', (r) => { if (r.status() >= 400 && !IGNORED_URLS.some((re) => re.test(r.url()))) failure(`${r.request().method()} ${r.url()}: HTTP ${r.status()}`); });
  }

  error(what) {
    const tail = this.logs.slice(-5).map((l) => `  [${l.type}] ${l.text}`).join('\n');
    return new Error(`page ${this.url}: ${what}${tail ? `\nlast console lines:\n${tail}` : ''}`);
  }

  /** Throw the first failure seen so far, if any. */
  check() {
    if (this.failures.length) throw this.error(this.failures.join('\n'));
  }

  /** Run `promise` bounded by `timeout`, failing at once on a page failure. */
  async guard(promise, what, timeout = this.timeout) {
    this.check();
    promise.catch(() => {}); // when a failure or the timeout wins, the call's own rejection is moot
    const r = await within(Promise.race([promise, this.failed]), timeout, () => this.error(`${what} did not finish in ${timeout} ms`).message);
    this.check();
    return r;
  }

  async goto(url) {
    const res = await this.guard(this.pw.goto(url, { waitUntil: 'load', timeout: 0 }), `loading ${url}`);
    if (!res && /^https?:/.test(url)) throw this.error(`no response for ${url}`); // data: and about: have none
  }

  /** page.evaluate(fn, arg), bounded; its value must be serialisable. */
  evaluate(fn, arg, { timeout = this.timeout } = {}) {
    return this.guard(this.pw.evaluate(fn, arg), 'evaluate', timeout);
  }

  /** Wait until `fn(arg)` in the page is truthy and return that value. */
  async waitFor(fn, arg, { timeout = this.timeout } = {}) {
    const handle = await this.guard(this.pw.waitForFunction(fn, arg, { timeout: 0, polling: 50 }), 'waitFor', timeout);
    const value = await handle.jsonValue();
    await handle.dispose();
    return value;
  }

  /** A PNG of the viewport (or of the whole page with `fullPage`), as a Buffer. */
  screenshot({ fullPage = false, timeout = this.timeout } = {}) {
    return this.guard(this.pw.screenshot({ type: 'png', fullPage, animations: 'disabled', timeout: 0 }), 'screenshot', timeout);
  }

  /** Close the page; then throw any failure it had that no call reported yet. */
  async close() {
    await within(this.context.close(), this.timeout, `closing ${this.url} timed out`);
    this.check();
  }
}

/**
 * Pids of live processes in process group `pgid` or whose environment holds `entry` (Linux
 * /proc; [] elsewhere). Playwright starts Chromium as a group leader, so the group holds the
 * browser, its zygotes, GPU process and renderers (which do not inherit the environment); the
 * crash handlers start sessions of their own but keep the environment.
 */
function browserProcesses(pgid, entry) {
  if (!existsSync('/proc')) return [];
  const pids = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // f[0]: state, f[2]: process group
      if (f[0] === 'Z') continue;
      if (Number(f[2]) === pgid || readFileSync(`/proc/${name}/environ`, 'latin1').split('\0').includes(entry)) pids.push(Number(name));
    } catch { /* gone, or not ours to read */ }
  }
  return pids;
}

/** The WebGPU adapter a page gets: { vendor, architecture, description, isFallbackAdapter, features }, or a reason string. */
export function adapterInfo(page) {
  return page.evaluate(async () => {
    if (!navigator.gpu) return 'navigator.gpu is missing';
    const a = await navigator.gpu.requestAdapter();
    if (!a) return 'requestAdapter() returned null';
    const i = a.info;
    return { vendor: i.vendor, architecture: i.architecture, description: i.description, isFallbackAdapter: i.isFallbackAdapter, features: [...a.features].sort() };
  });
}
