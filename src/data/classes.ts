// Class names for figures and reports: Fashion-MNIST's when an IDX folder's path says
// 'fashion', CIFAR-10's, or those of a CIFAR meta file beside the binaries
// (batches.meta.txt, fine_label_names.txt, coarse_label_names.txt); else the indices.
// Image folders name their classes by their sub-folders (node/folder.ts).
// Platform-free (see core.ts): the meta file's text is passed in; node/classes.ts reads it.

export const FASHION_MNIST_CLASSES = ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot'];
export const CIFAR10_CLASSES = ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck'];

const META: Record<string, string> = { cifar10: 'batches.meta.txt', 'cifar100:fine': 'fine_label_names.txt', 'cifar100:coarse': 'coarse_label_names.txt' };

/** The name of the CIFAR meta file that lists a format's class names, if it has one. */
export function classMetaFile(format: 'idx' | 'cifar10' | 'cifar100', cifar100Labels: 'fine' | 'coarse' = 'fine'): string | undefined {
  return META[format === 'cifar100' ? `cifar100:${cifar100Labels}` : format];
}

/** Class names from a meta file's text (null when there is none), else the defaults for the format. */
export function classNamesFrom(format: 'idx' | 'cifar10' | 'cifar100', dir: string, numClasses: number, metaText: string | null): string[] {
  if (metaText !== null) {
    const names = metaText.split('\n').map((s) => s.trim()).filter(Boolean);
    if (names.length >= numClasses) return names.slice(0, numClasses);
  }
  if (numClasses === 10 && format === 'cifar10') return CIFAR10_CLASSES.slice();
  if (numClasses === 10 && format === 'idx' && /fashion/i.test(dir)) return FASHION_MNIST_CLASSES.slice();
  return Array.from({ length: numClasses }, (_, i) => String(i));
}
