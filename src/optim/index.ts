export { SGD } from './sgd.js';
export type { SGDOptions } from './sgd.js';
export { multiStep, cosine, constant } from './schedule.js';
export type { Schedule } from './schedule.js';
