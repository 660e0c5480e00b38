// Placeholder, replaced by the norm kernels.
export {};
