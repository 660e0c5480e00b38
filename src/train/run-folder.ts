// A training run's folder (--out): a later command never damages the run in it.
//   checkRunFolder  before anything else: --out is a folder that can be written (out-folder.ts),
//                   and one that holds a run (its checkpoints, model files, metrics, summary)
//                   is refused unless the command continues it (--resume) or replaces it
//                   (--force); the refusal touches nothing;
//   replaceRun      --force, once every check of the command has passed: the earlier run's
//                   files (and its report) are removed, nothing else in the folder;
//   removeStaleTemps  temporary files of atomic writes (`<file>.tmp-<pid>`) left by a killed
//                   process of ours (the pid is not alive), removed on the next start.
import { ArgError } from '../errors.js';
import { hostFiles, basename, dirname, join, resolve } from '../platform/files.js';
import { LOSSES } from './objective.js';
import { stageTwoName } from './options.js';
import { ensureWritableFolder, inspectFolder } from './out-folder.js';

const MODEL_FILES = ['baseline', ...LOSSES.map(stageTwoName)].map((n) => `${n}.safetensors`);
/** The files a training run writes (metrics.jsonl counts when it holds an epoch). */
const RUN_FILE = (name: string) => MODEL_FILES.includes(name) || /^checkpoint-[\w-]+\.safetensors$/.test(name) || ['metrics.jsonl', 'summary.json', 'predictions.json'].includes(name);
/** The files the run report writes beside them. */
const REPORT_FILES = ['index.html', 'loss.png', 'accuracy.png', 'confusion_baseline.png', 'confusion_focusnet.png', 'confusion_diff.png'];
const TEMP = /^(.+)\.tmp-(\d+)$/;

function entries(dir: string): string[] {
  try {
    return hostFiles('train.checkRunFolder').list(dir).map((e) => e.name).sort();
  } catch {
    return [];
  }
}

/** The files of a run in `dir` (an empty metrics.jsonl, written when a run starts, is not one). */
export function runFilesIn(dir: string): string[] {
  return entries(dir).filter((n) => {
    if (!RUN_FILE(n)) return false;
    if (n !== 'metrics.jsonl') return true;
    try {
      return hostFiles('train.checkRunFolder').stat(join(dir, n)).size > 0;
    } catch {
      return false;
    }
  });
}

/**
 * Check --out before a run starts (ArgError naming the flag): usable as an output folder (it is
 * created when missing) and, when it holds a run, only with --resume or --force. Returns the
 * run files found.
 */
export function checkRunFolder(o: { out: string; resume?: boolean; force?: boolean; baseline?: string }, cmd = 'train'): string[] {
  const where = `focusnet ${cmd}: --out`;
  if (o.resume && o.force) throw new ArgError(`focusnet ${cmd}: --resume and --force contradict each other (continue the run in --out, or replace it)`);
  const found = inspectFolder(o.out, where) ? runFilesIn(o.out) : [];
  if (found.length && !o.resume && !o.force) {
    throw new ArgError(
      `${where} ${o.out} holds a training run (${found.join(', ')}); pass --resume to continue it, --force to replace it, or another --out`,
    );
  }
  if (o.force && o.baseline && resolve(dirname(o.baseline)) === resolve(o.out) && found.includes(basename(o.baseline))) {
    throw new ArgError(`focusnet ${cmd}: --baseline ${o.baseline} is a file of the run in --out that --force would remove; copy it elsewhere first, or train into another --out`);
  }
  ensureWritableFolder(o.out, where);
  return found;
}

/** --force: remove the earlier run's files and report from `dir`; returns what was removed. */
export function replaceRun(dir: string): string[] {
  const gone = entries(dir).filter((n) => RUN_FILE(n) || REPORT_FILES.includes(n));
  for (const n of gone) hostFiles('train.replaceRun').remove(join(dir, n));
  return gone;
}

/**
 * Remove `<file>.tmp-<pid>` of the run's and report's files (and of any .safetensors, .json or
 * .jsonl file: an experiment's baseline snapshots) whose process is gone (a write
 * killed between its temporary file and the rename); returns the names removed.
 */
export function removeStaleTemps(dir: string): string[] {
  const gone: string[] = [];
  for (const n of entries(dir)) {
    const m = TEMP.exec(n);
    if (!m || !(RUN_FILE(m[1]) || REPORT_FILES.includes(m[1]) || /\.(safetensors|jsonl?)$/.test(m[1]))) continue;
    const pid = Number(m[2]);
    const files = hostFiles('train.removeStaleTemps');
    if (pid === files.pid || files.processAlive(pid)) continue;
    try {
      files.remove(join(dir, n));
      gone.push(n);
    } catch {
      /* removed meanwhile */
    }
  }
  return gone;
}
