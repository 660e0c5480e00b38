// A static file server for the browser tests, the browser benchmark and the demo: sirv over
// node:http, bound to 127.0.0.1 on a free port (pages need http://, ES modules do not load from
// file://, and 127.0.0.1 is a secure context, so navigator.gpu exists there).
//
//   const s = await serve({ root: 'test/browser/pages', mounts: { '/dist/': 'dist' } });
//   s.url          // 'http://127.0.0.1:PORT/'
//   await s.close();
//
// `mounts` maps a URL prefix (ending in '/') to a folder; the longest matching prefix wins, and
// everything else is looked up under `root`. `routes` maps exact paths (the query ignored) to
// functions that answer them (the demo's /served.json). Files are read on every request (no
// caching, so a rebuilt bundle is served at once); a missing file is a plain 404, dotfiles are
// never served.
import http from 'node:http';
import { resolve } from 'node:path';
import sirv from 'sirv';

/** Whether a request path (undecoded or decoded) has a segment starting with '.'. */
function hasDotPart(url) {
  const path = url.split('?')[0];
  let decoded = path;
  try { decoded = decodeURIComponent(path); } catch { /* malformed: the raw path decides */ }
  return [path, decoded].some((p) => p.split(/[/\\]/).some((part) => part.startsWith('.')));
}

/**
 * Serve `root` (and `mounts`, and `routes`: { '/path': (req, res) => void }) on `host`:`port`
 * (0: a free port). `headers` are added to every response (e.g. the COOP/COEP pair a page needs
 * for SharedArrayBuffer).
 */
export async function serve({ root, mounts = {}, routes: answers = {}, host = '127.0.0.1', port = 0, headers = {} } = {}) {
  if (!root) throw new Error('serve: no root folder given');
  const handler = (dir) => sirv(resolve(dir), { dev: true, dotfiles: false });
  const routes = Object.entries(mounts)
    .map(([prefix, dir]) => {
      if (!prefix.startsWith('/') || !prefix.endsWith('/')) throw new Error(`serve: mount prefix "${prefix}" must start and end with "/"`);
      return { prefix, serve: handler(dir) };
    })
    .sort((a, b) => b.prefix.length - a.prefix.length);
  const serveRoot = handler(root);
  const notFound = (req, res) => {
    res.statusCode = 404;
    res.setHeader('content-type', 'text/plain; charset=utf-8');
    res.end(`not found: ${req.url}\n`);
  };

  const server = http.createServer((req, res) => {
    for (const [k, v] of Object.entries(headers)) res.setHeader(k, v);
    // sirv's dev mode (no caching) does not apply its `dotfiles: false`: no path with a part
    // starting with '.' is served (.git, .env, an editor's swap file)
    if (hasDotPart(req.url)) return notFound(req, res);
    const answer = Object.hasOwn(answers, req.url.split('?')[0]) ? answers[req.url.split('?')[0]] : null;
    if (answer) return answer(req, res);
    const route = routes.find((r) => req.url.startsWith(r.prefix));
    if (!route) return serveRoot(req, res, () => notFound(req, res));
    const original = req.url;
    req.url = req.url.slice(route.prefix.length - 1); // keep the leading '/'
    route.serve(req, res, () => { req.url = original; notFound(req, res); });
  });
  await new Promise((ok, fail) => {
    server.once('error', fail);
    server.listen(port, host, () => { server.off('error', fail); ok(); });
  });
  const { port: bound } = server.address();
  return {
    url: `http://${host}:${bound}/`,
    port: bound,
    server,
    /** Stop listening and drop open (keep-alive) connections. */
    close: () => new Promise((ok) => { server.close(() => ok()); server.closeAllConnections(); }),
  };
}
