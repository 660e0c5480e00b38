// Runs a fuzz worker (a worker thread that posts { type: 'start', desc } before each case,
// { type: 'case', ... } after it and { type: 'done', ... } at the end) with a watchdog: no word
// from the worker for `hangMs` is a hang (the worker is terminated and the case named), and a
// worker that dies is an error naming the case it was in. Resolves { cases, done } (`done` is the
// final message).
import { Worker } from 'node:worker_threads';

export function runFuzzWorker(url, workerData, { hangMs = 20000 } = {}) {
  return new Promise((resolve, reject) => {
    const worker = new Worker(url, { workerData });
    const cases = [];
    let current = null;
    let timer = null;
    const arm = () => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        worker.terminate();
        reject(new Error(`hang: case ${current ? current.desc : '(setup)'} ran for more than ${hangMs} ms`));
      }, hangMs);
    };
    arm();
    worker.on('message', (m) => {
      arm();
      if (m.type === 'start') current = m;
      else if (m.type === 'case') cases.push(m);
      else if (m.type === 'done') {
        clearTimeout(timer);
        resolve({ cases, done: m });
      }
    });
    worker.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    worker.on('exit', (code) => {
      clearTimeout(timer);
      if (code !== 0) reject(new Error(`fuzz worker exited with ${code}${current ? ` during ${current.desc}` : ''}`));
    });
  });
}
