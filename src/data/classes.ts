// Class names for figures and reports: Fashion-MNIST's when an IDX folder's path says
// 'fashion', CIFAR-10's, or those of a CIFAR meta file beside the binaries
// (batches.meta.txt, fine_label_names.txt, coarse_label_names.txt); else the indices.
// Image folders name their classes by their sub-folders (folder.ts).
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export const FASHION_MNIST_CLASSES = ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot'];
export const CIFAR10_CLASSES = ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck'];

const META: Record<string, string> = { cifar10: 'batches.meta.txt', 'cifar100:fine': 'fine_label_names.txt', 'cifar100:coarse': 'coarse_label_names.txt' };

export function classNamesFor(format: 'idx' | 'cifar10' | 'cifar100', dir: string, numClasses: number, cifar100Labels: 'fine' | 'coarse' = 'fine'): string[] {
  const meta = META[format === 'cifar100' ? `cifar100:${cifar100Labels}` : format];
  if (meta && existsSync(join(dir, meta))) {
    const names = readFileSync(join(dir, meta), 'utf8').split('\n').map((s) => s.trim()).filter(Boolean);
    if (names.length >= numClasses) return names.slice(0, numClasses);
  }
  if (numClasses === 10 && format === 'cifar10') return CIFAR10_CLASSES.slice();
  if (numClasses === 10 && format === 'idx' && /fashion/i.test(dir)) return FASHION_MNIST_CLASSES.slice();
  return Array.from({ length: numClasses }, (_, i) => String(i));
}
