// The `io` namespace: safetensors checkpoints.
export {
  saveSafetensors, loadSafetensors, readSafetensorsMetadata, decodeSafetensors, encodeSafetensors, SafetensorsError,
} from './safetensors.js';
export type { HostTensor, DecodedSafetensors, EncodeEntry } from './safetensors.js';
