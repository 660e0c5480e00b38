#!/usr/bin/env bash
# The one device check of issue 15 (item 6): on a GPU machine with no Node.js and no network,
# unpack what scripts/gpu-pack.sh gathered (.gl/ Vulkan loader .debs, .gpu/ node + xz +
# node_modules), build nothing (dist/ travels), then in one go:
#   1. the adapter: scripts/gpu-info.mjs (features with and without Dawn's opt-in toggles,
#      subgroup-matrix configurations, limits) and `focusnet info`
#   2. the conv and matmul test subset:  node test/run.mjs 'conv|matmul', then the mixed-precision
#      tests: node test/run.mjs '^(mixed-kernels|amp)'
#   3. npm run bench -- conv --paths (the default cases; then ResNet-18 layer shapes at batch 128)
#   4. npm run bench -- step --batches 128,256 (ResNet-18 / MobileNetV2 ×0.5 small-input / LeNet-5),
#      with the default paths, then again after autotuning each model's convolutions, then with
#      --precision mixed (its table only in gpu-check.log)
#   5. npm run bench -- matmul
# Each part has a time cap, so one hang costs only its own part. Everything lands in $OUT
# (at most 8 files come back from a device call): gpu-check.log (all output), summary.json
# (each part's exit status and seconds), gpu-info.json, conv.json, conv-resnet.json,
# step.json, step-autotune.json, matmul.json.
#   usage: bash scripts/gpu-check.sh [--quick]
#   --quick: small shapes and batches (a smoke run of the whole script on lavapipe: minutes).
#   FOCUSNET_GPU_CARRIED=1 uses the carried node even where one is installed (to test the script).
set -uo pipefail
cd "$(dirname "$0")/.."
QUICK=0
[[ "${1:-}" == "--quick" ]] && QUICK=1
OUT=${OUT:-$PWD/gpu-out}
mkdir -p "$OUT"
exec > >(tee -a "$OUT/gpu-check.log") 2>&1
T0=$SECONDS
SUMMARY=()
section() { echo; echo "== $1 (at $((SECONDS - T0)) s)"; }
# run NAME CAP_SECONDS command...: time-capped, its status and seconds into summary.json
run() {
  local name=$1 cap=$2 t=$SECONDS rc
  shift 2
  timeout --kill-after=10 "$cap" "$@"
  rc=$?
  [[ $rc -eq 124 ]] && echo "gpu-check: '$name' stopped at its cap of $cap s"
  SUMMARY+=("\"$name\": { \"rc\": $rc, \"seconds\": $((SECONDS - t)), \"cap\": $cap }")
  return $rc
}
# decompress an .xz file to stdout with whatever this machine has
unxz_to_stdout() {
  if command -v xz >/dev/null 2>&1; then xz -dc "$1"
  elif [[ -x .gpu/xz ]]; then LD_LIBRARY_PATH="$PWD/.gpu${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" .gpu/xz -dc "$1"
  else python3 -c 'import lzma, shutil, sys; shutil.copyfileobj(lzma.open(sys.argv[1]), sys.stdout.buffer)' "$1"
  fi
}

section "machine"
date -u
uname -a
command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv
cat /proc/loadavg

section "Vulkan loader"
if ldconfig -p | grep -q 'libvulkan.so.1'; then
  echo "libvulkan.so.1 present"
elif ls .gl/*.deb >/dev/null 2>&1; then
  for f in .gl/*.deb; do dpkg -x "$f" /; done
  ldconfig
  echo "unpacked $(ls .gl/*.deb | wc -l) .debs from .gl/"
else
  echo "gpu-check: no libvulkan.so.1 and no .gl/*.deb (run scripts/gpu-pack.sh and carry .gl)"
fi
NV_ICD=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
if [[ -z "${VK_DRIVER_FILES:-}${VK_ICD_FILENAMES:-}" && -f $NV_ICD ]] && ! grep -qsl nvidia /usr/share/vulkan/icd.d/*.json /etc/vulkan/icd.d/*.json; then
  export VK_DRIVER_FILES=$NV_ICD __EGL_VENDOR_LIBRARY_FILENAMES=/usr/local/nvidia/share/glvnd/egl_vendor.d/10_nvidia.json
  echo "VK_DRIVER_FILES=$VK_DRIVER_FILES"
fi

section "node"
NODE=$(command -v node || true)
if [[ "${FOCUSNET_GPU_CARRIED:-0}" == 1 || -z "$NODE" ]] || ! "$NODE" -e 'process.exit(+process.versions.node.split(".")[0] >= 20 ? 0 : 1)'; then
  mkdir -p /tmp/focusnet-node
  unxz_to_stdout .gpu/node.xz > /tmp/focusnet-node/node && chmod +x /tmp/focusnet-node/node
  NODE=/tmp/focusnet-node/node
fi
export PATH="$(dirname "$NODE"):$PATH"
echo "$NODE $("$NODE" --version)"
if [[ ! -f node_modules/webgpu/package.json ]]; then
  unxz_to_stdout .gpu/node_modules.tar.xz | tar -x
  echo "unpacked node_modules ($(ls node_modules | wc -l) entries)"
fi
[[ -f dist/index.js ]] || echo "gpu-check: dist/ is missing (carry it: scripts/gpu-pack.sh builds it)"

section "adapter"
run gpu-info 30 node scripts/gpu-info.mjs > "$OUT/gpu-info.json"
grep -E '"(vendor|architecture|description|device)"' "$OUT/gpu-info.json" | head -4
run focusnet-info 30 node dist/cli.js info

# the bench JSON of one run, under its own name in $OUT
keep() { [[ -f "bench/out/$1.json" ]] && cp "bench/out/$1.json" "$OUT/$2.json"; }

section "tests: conv, matmul"
run tests $((QUICK ? 300 : 120)) node test/run.mjs 'conv|matmul'
TESTS_RC=$?
# mixed precision (issue 15 item 2): the f16 kernel paths and autocast/GradScaler; on NVIDIA this
# needs Dawn's vulkan_enable_f16_on_nvidia (src/platform/node.ts turns it on); gpu-info.json says
# whether the device got 'shader-f16'
section "tests: mixed precision (f16 kernels, amp)"
run tests-mixed $((QUICK ? 300 : 90)) node test/run.mjs '^(mixed-kernels|amp)'

if (( QUICK )); then
  section "bench conv --paths (quick cases)"
  run conv-paths 240 node bench/run.mjs conv --paths --cases quick --reps 2 --no-batchnorm && keep conv conv
  section "bench step (LeNet-5, batch 16)"
  run step 120 node bench/run.mjs step --quick --only lenet5 --batches 16 --out step && keep step step
  section "bench step (LeNet-5, batch 16, mixed precision)"
  run step-mixed 120 node bench/run.mjs step --quick --only lenet5 --batches 16 --precision mixed --out step-mixed
  section "bench step, conv autotuned (LeNet-5, batch 16)"
  run step-autotune 180 node bench/run.mjs step --quick --only lenet5 --batches 16 --autotune --out step-autotune && keep step-autotune step-autotune
  section "bench matmul (quick)"
  run matmul 180 node bench/run.mjs matmul --quick --variants rb,sg --max-ms 500 && keep matmul matmul
else
  section "bench conv --paths"
  run conv-paths 75 node bench/run.mjs conv --paths --no-batchnorm && keep conv conv
  section "bench step --batches 128,256"
  run step 75 node bench/run.mjs step --batches 128,256 --out step && keep step step
  section "bench step --batches 128,256, conv autotuned"
  run step-autotune 100 node bench/run.mjs step --batches 128,256 --autotune --out step-autotune && keep step-autotune step-autotune
  # mixed precision's step (issue 15 item 5): its table is in gpu-check.log (8 files come back at most)
  section "bench step --batches 128,256 --precision mixed"
  run step-mixed 75 node bench/run.mjs step --batches 128,256 --precision mixed --out step-mixed
  section "bench conv --paths --cases resnet"
  run conv-resnet 50 node bench/run.mjs conv --paths --cases resnet --no-batchnorm && keep conv conv-resnet
  section "bench matmul"
  run matmul 50 node bench/run.mjs matmul && keep matmul matmul
fi

section "done"
{
  echo "{ \"quick\": $QUICK, \"seconds\": $((SECONDS - T0)), \"parts\": {"
  (IFS=,; echo "${SUMMARY[*]}")
  echo "} }"
} > "$OUT/summary.json"
cat "$OUT/summary.json"
ls -la "$OUT"
exit $TESTS_RC
