// File access (see files.ts): class names of an IDX or CIFAR folder, reading the CIFAR
// meta file beside the binaries when there is one (../classes.ts says which).
import { join } from '../../platform/files.js';
import { classMetaFile, classNamesFrom } from '../classes.js';
import { isFile, readTextFile } from './files.js';

export function classNamesFor(format: 'idx' | 'cifar10' | 'cifar100', dir: string, numClasses: number, cifar100Labels: 'fine' | 'coarse' = 'fine'): string[] {
  const meta = classMetaFile(format, cifar100Labels);
  const path = meta ? join(dir, meta) : null;
  const text = path && isFile(path) ? readTextFile(path, 'class names') : null;
  return classNamesFrom(format, dir, numClasses, text);
}
