// What the child-process suites share (test/reactor-process*.test.ts): a
// coroutine driven under run() or attach(), a stream read to its end, and
// whether a pid still names a process.
import type { Coroutine, Reactor, Subprocess, SystemError } from '../lib/index.js';

/** The two ways a reactor is driven, each suite runs under both. */
export const MODES = ['run', 'attach'] as const;

/** Runs `body` as a coroutine on `reactor`: under run() (Node's loop blocked
 * until it returns), or attached and awaited. */
export async function drive<T>(reactor: Reactor, mode: (typeof MODES)[number], body: () => Coroutine<T>): Promise<T> {
  const task = reactor.spawn(body);
  if (mode === 'run') {
    reactor.run();
    return task.result();
  }
  reactor.attach();
  try {
    return await task;
  } finally {
    reactor.detach();
  }
}

/** Everything a stream gives until its end, as text. */
export function* readAll(stream: Subprocess['stdout']): Coroutine<string> {
  let text = '';
  for (;;) {
    const chunk: Uint8Array = yield* stream!.read();
    if (chunk.length === 0) return text;
    text += new TextDecoder().decode(chunk);
  }
}

/** Whether a process with this pid exists (a zombie does). */
export function exists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as SystemError).code !== 'ESRCH';
  }
}
