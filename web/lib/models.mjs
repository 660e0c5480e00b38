// Model files in the page: read a checkpoint's bytes (train.checkpointFromBytes: every field and
// tensor checked, a DataError naming the file), build the architecture it records for the data's
// images (train.modelFromCheckpoint, which names the file and the field that does not fit) and
// split it for class activation maps (viz.splitModel). Nothing half-built stays on the GPU.

/** A checkpoint's { name, bytes } read and checked (host memory only): the library's CheckpointFile. */
export function readCheckpoint(fn, file) {
  const ck = fn.train.checkpointFromBytes(file.bytes, file.name);
  const { arch } = ck.info;
  if (!arch) throw new fn.DataError(file.name, `records no architecture (metadata field 'arch'): the page needs a model file the trainer wrote (focusnet train), or a state dict with an 'arch' field`);
  if (!fn.viz.ARCHS.includes(arch)) {
    throw new fn.DataError(file.name, `holds a ${arch}, which has no convolutional feature maps to draw activation maps from (the explorer takes ${fn.viz.ARCHS.join(', ')})`);
  }
  return ck;
}

/** The class count a checkpoint is for (its metadata's; 10 for a state dict, whose classifier must then agree). */
export const classesOf = (ck) => ck.info.numClasses ?? 10;

/**
 * The model of a read checkpoint for images of `inChannels`×`imageSize`² and `numClasses`
 * classes: { name, arch, model, split, norm, stage }.
 */
export function buildModel(fn, ck, { inChannels, imageSize, numClasses }) {
  const { arch } = ck.info;
  const model = fn.train.modelFromCheckpoint(ck, { arch, numClasses, inChannels, imageSize, matchClasses: true });
  try {
    return { name: ck.path, arch, model, split: fn.viz.splitModel(arch, model), norm: ck.info.norm ?? null, stage: ck.info.stage ?? null };
  } catch (e) {
    model.dispose();
    throw e;
  }
}

/** Both models (the baseline's class count for both); when the second fails, the first is disposed. */
export function buildPair(fn, cks, shape) {
  const baseline = buildModel(fn, cks.baseline, shape);
  try {
    return { baseline, focusnet: buildModel(fn, cks.focusnet, shape) };
  } catch (e) {
    baseline.model.dispose();
    throw e;
  }
}

export function disposePair(pair) {
  pair?.baseline?.model.dispose();
  pair?.focusnet?.model.dispose();
}
