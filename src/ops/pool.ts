// Placeholder, replaced by the pool kernels.
export {};
