// models: see docs/ and ../shared/api.md. Filled in by its own work stream.
export {};
