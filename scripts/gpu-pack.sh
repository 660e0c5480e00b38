#!/usr/bin/env bash
# Gather, on this machine, what scripts/gpu-check.sh needs on a GPU machine that has no
# Node.js, no npm and no network (issue 15 item 6; /work/shared/platform.md "Real GPUs"):
#   dist/                  the build (node build.mjs --no-types): nothing is built there
#   .gl/*.deb              the Vulkan loader and GL vendor libraries (the device README's
#                          apt-get download recipe, amd64)
#   .gpu/node.xz           this machine's node binary, xz-compressed
#   .gpu/xz, .gpu/liblzma.so.5   an xz to unpack it with, should the machine lack one
#   .gpu/node_modules.tar.xz     the runtime dependencies of dist/ and the test runner (uvu),
#                          webgpu's Dawn for linux-x64 only
# and check that the working tree plus these stay within the 64 MiB a device call carries.
# Then run on the device (the `run` tool, from the checkout the session started in):
#   carry [".gl", ".gpu", "dist"], command "bash scripts/gpu-check.sh", timeout_s 600
#   usage: scripts/gpu-pack.sh [--refresh]     (--refresh: download the .debs again)
set -euo pipefail
cd "$(git rev-parse --show-toplevel)"
LIMIT=$((64 * 1024 * 1024))

echo "== build (dist/)"
node build.mjs --no-types

echo "== Vulkan loader .debs (.gl/)"
if [[ "${1:-}" == "--refresh" ]]; then rm -rf .gl; fi
if ! ls .gl/*.deb >/dev/null 2>&1; then
  mkdir -p .gl /tmp/amd64/partial
  o='-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 -oDir::State::Lists=/tmp/amd64'
  # shellcheck disable=SC2086
  apt-get $o update -qq
  # shellcheck disable=SC2086
  (cd .gl && apt-get $o download libvulkan1 libegl1 libglvnd0 libopengl0 libgl1 libglx0 libgles2)
fi
ls -la .gl

echo "== node, xz (.gpu/)"
mkdir -p .gpu
NODE=$(command -v node)
if [[ ! -s .gpu/node.xz || "$NODE" -nt .gpu/node.xz ]]; then
  xz -9 -T2 -c "$NODE" > .gpu/node.xz.tmp && mv .gpu/node.xz.tmp .gpu/node.xz
fi
node --version > .gpu/node.version
cp "$(command -v xz)" .gpu/xz
LZMA=$(ldd "$(command -v xz)" | awk '/liblzma/ { print $3 }')
cp -L "$LZMA" .gpu/liblzma.so.5

echo "== node_modules (.gpu/node_modules.tar.xz)"
# the package's dependencies and uvu (the test runner), with everything they depend on
node -e '
  const fs = require("fs"), path = require("path");
  const pkg = JSON.parse(fs.readFileSync("package.json", "utf8"));
  const todo = [...Object.keys(pkg.dependencies || {}), "uvu"];
  const seen = new Set();
  while (todo.length) {
    const name = todo.pop();
    if (seen.has(name)) continue;
    const dir = path.join("node_modules", name);
    if (!fs.existsSync(path.join(dir, "package.json"))) { console.error("missing " + dir); process.exit(1); }
    seen.add(name);
    const p = JSON.parse(fs.readFileSync(path.join(dir, "package.json"), "utf8"));
    todo.push(...Object.keys(p.dependencies || {}), ...Object.keys(p.optionalDependencies || {}).filter((d) => fs.existsSync(path.join("node_modules", d))));
  }
  fs.writeFileSync(".gpu/modules.txt", [...seen].sort().map((n) => "node_modules/" + n).join("\n") + "\n");
'
tar -c --exclude='node_modules/webgpu/dist/darwin-*' --exclude='node_modules/webgpu/dist/win32-*' \
  --exclude='node_modules/webgpu/dist/linux-arm64' -T .gpu/modules.txt | xz -9 -T2 > .gpu/node_modules.tar.xz
echo "$(wc -l < .gpu/modules.txt) packages"

echo "== what a device call carries"
tree=$(git ls-files -co --exclude-standard -z | du -cb --files0-from=- | tail -1 | cut -f1)
carried=$(du -cb .gl .gpu dist | tail -1 | cut -f1)
total=$((tree + carried))
{ du -sh .gl .gpu dist; du -sh .gpu/*; } | sed 's/^/  /'
awk -v t="$tree" -v a="$total" 'BEGIN { printf "  working tree (tracked + untracked, not ignored): %.1f MiB\n  total with .gl, .gpu, dist: %.1f MiB of 64 MiB\n", t / 1048576, a / 1048576 }'
if (( total > LIMIT )); then
  echo "gpu-pack: over the 64 MiB a device call carries" >&2
  exit 1
fi
echo 'run: carry [".gl", ".gpu", "dist"], command "bash scripts/gpu-check.sh", timeout_s 600'
