// Worker-thread fixtures for the wakeup and worker_threads tests.
import { Worker } from 'node:worker_threads';
import { DIST_INDEX } from './helpers.js';

/** A worker that runs `body` (CommonJS, inside an async function) once the
 * built package is loaded: `lib` is the package, `data` the workerData,
 * `post(m)` sends a message to the test. */
export function worker(body: string, data: unknown = null): Worker {
  const source = `
    const { parentPort, workerData: data } = require('node:worker_threads');
    const post = (m) => parentPort.postMessage(m);
    import(${JSON.stringify(DIST_INDEX)}).then(async (lib) => { ${body} });`;
  const w = new Worker(source, { eval: true, workerData: data });
  // Listened for from the start: a worker that ends while the test's thread
  // is blocked (in run()) has its last messages and its 'exit' delivered in
  // one go, before a listener added after the last message could hear it.
  exits.set(w, new Promise<number>((resolve) => w.once('exit', resolve)));
  return w;
}

const exits = new WeakMap<Worker, Promise<number>>();

/** The exit code of a worker made by worker(), whenever it exits (before or after this call). */
export function exited(w: Worker): Promise<number> {
  const exit = exits.get(w);
  if (exit === undefined) throw new Error('exited() takes a worker made by worker()');
  return exit;
}

/** The worker's next message; rejects if it fails first. */
export const nextMessage = (w: Worker) =>
  new Promise<unknown>((resolve, reject) => {
    w.once('message', resolve);
    w.once('error', reject);
  });
