#!/bin/sh
# The repository's results: `focusnet experiment` with the presets `methods` (Tables 2 and 7)
# and `ablation` (Table 10), 5 seeds, LeNet-5 on Fashion-MNIST at the main job's schedule
# (every schedule flag at train's default: 3 + 3 epochs, batch 128, lr 0.1, multistep, the
# 'auto' warm-up), into one experiment folder (ablation reuses the baselines, CE controls and
# FocusNet runs of methods), then the tables, the commands, the times and the machine into
# docs/results.md between its markers `<!-- results:begin -->` and `<!-- results:end -->`.
#
#   sh scripts/results.sh [OUT_DIR] [more experiment flags ...]
#
# OUT_DIR defaults to runs/results; an interrupted run continues when started again (the
# experiment resumes). Flags after OUT_DIR are appended to both experiment commands (a flag
# given twice keeps the last value), e.g. a quick check of the script itself:
#
#   RESULTS_MD=/tmp/results.md sh scripts/results.sh /tmp/res --train-limit 256 --test-limit 128 --seeds 1,2
#
# Environment: DATA (default /usr/share/datasets/fashion-mnist), SEEDS (default 1,2,3,4,5),
# RESULTS_MD (default docs/results.md), FOCUSNET (default: node dist/cli.js, built first).
set -eu
cd "$(dirname "$0")/.."
OUT=${1:-runs/results}
[ $# -gt 0 ] && shift
DATA=${DATA:-/usr/share/datasets/fashion-mnist}
SEEDS=${SEEDS:-1,2,3,4,5}
RESULTS_MD=${RESULTS_MD:-docs/results.md}
if [ -z "${FOCUSNET:-}" ]; then
  node build.mjs --no-types
  FOCUSNET="node dist/cli.js"
fi
grep -q '<!-- results:begin -->' "$RESULTS_MD" && grep -q '<!-- results:end -->' "$RESULTS_MD" || {
  echo "results.sh: $RESULTS_MD has no <!-- results:begin --> / <!-- results:end --> markers" >&2
  exit 2
}
mkdir -p "$OUT"
LOG="$OUT/results-sh.log"
echo "----" >> "$LOG"
say() { echo "$*" | tee -a "$LOG"; }

load() { cut -d' ' -f1-3 /proc/loadavg; }
commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
dirty=$(git status --porcelain --untracked-files=no 2>/dev/null | head -1)
[ -n "$dirty" ] && commit="$commit (with uncommitted changes)"
adapter=$($FOCUSNET info 2>/dev/null | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{try{const i=JSON.parse(s);console.log(`${i.vendor} ${i.architecture}${i.isSoftware?" (software)":""}`)}catch{console.log("?")}})')
started=$(date -u '+%Y-%m-%d %H:%M UTC')
say "results.sh: $started, commit $commit, adapter $adapter, $(nproc) cores, load $(load)"

# one preset: the command, its wall clock, the load before and after
TIMES=""
run_preset() {
  preset=$1
  shift
  cmd="focusnet experiment --preset $preset --data $DATA --out $OUT --seeds $SEEDS${*:+ $*}"
  say "\$ $cmd"
  l0=$(load)
  t0=$(date +%s)
  # shellcheck disable=SC2086
  $FOCUSNET experiment --preset "$preset" --data "$DATA" --out "$OUT" --seeds "$SEEDS" --progress none "$@" >> "$LOG" 2>&1 || {
    echo "results.sh: the $preset experiment failed (exit $?); see $LOG. Run the script again to continue." >&2
    exit 1
  }
  t1=$(date +%s)
  # the trainings' own seconds (results.jsonl), which a rerun that skips finished ones keeps
  own=$(node -e '
    const fs = require("fs");
    const [out, name] = process.argv.slice(1);
    const e = JSON.parse(fs.readFileSync(out + "/experiment.json", "utf8")).experiments[name];
    const ids = new Set(e.rows.flatMap((r) => Object.values(r.cells)));
    const lines = fs.readFileSync(out + "/results.jsonl", "utf8").split("\n").filter(Boolean).map((l) => { try { return JSON.parse(l); } catch { return null; } });
    const s = lines.filter((l) => l && ids.has(l.id) && Number.isFinite(l.seconds)).reduce((a, l) => a + l.seconds, 0);
    console.log(`${Math.floor(s / 60)} min ${Math.round(s % 60)} s`);
  ' "$OUT" "$preset")
  TIMES="$TIMES
| \`$preset\` | \`$cmd\` | $own | $(( (t1 - t0) / 60 )) min $(( (t1 - t0) % 60 )) s | $l0 | $(load) |"
  say "  $preset: $(( t1 - t0 )) s"
}
run_preset methods "$@"
run_preset ablation "$@"

# the tables into RESULTS_MD, between the markers
SECTION="$OUT/results-section.md"
{
  echo "Run by \`sh scripts/results.sh\` on $started: commit $commit, $(nproc) cores, adapter $adapter."
  echo "Every figure is test accuracy in percent after the last epoch; each training's own time is in"
  echo "\`$OUT/results.jsonl\` (\`seconds\`), the full report in \`$OUT/index.html\`."
  echo
  echo "| preset | command | its trainings' time (shared ones in both) | wall clock of this call | load average before | after |"
  echo "|---|---|---:|---:|---|---|"
  echo "$TIMES" | sed '/^$/d'
  echo
  # summary.md without its title, its headings one level down
  sed '1,2d; s/^## /### /' "$OUT/summary.md"
} > "$SECTION"
node -e '
  const fs = require("fs");
  const [md, section] = process.argv.slice(1);
  const text = fs.readFileSync(md, "utf8");
  const b = "<!-- results:begin -->", e = "<!-- results:end -->";
  const i = text.indexOf(b), j = text.indexOf(e);
  if (i < 0 || j < i) { console.error(`results.sh: ${md}: the markers are missing or out of order`); process.exit(2); }
  const body = fs.readFileSync(section, "utf8").trim();
  const tmp = md + ".tmp";
  fs.writeFileSync(tmp, text.slice(0, i + b.length) + "\n" + body + "\n" + text.slice(j));
  fs.renameSync(tmp, md);
' "$RESULTS_MD" "$SECTION"
say "results.sh: the tables are in $RESULTS_MD (and $OUT/summary.md, $OUT/index.html)"
