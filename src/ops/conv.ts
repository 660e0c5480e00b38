// Placeholder, replaced by the conv kernels.
export {};
