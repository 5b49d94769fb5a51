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
  return new Worker(source, { eval: true, workerData: data });
}

/** The worker's next message; rejects if it fails first. */
export const nextMessage = (w: Worker) =>
  new Promise<unknown>((resolve, reject) => {
    w.once('message', resolve);
    w.once('error', reject);
  });
