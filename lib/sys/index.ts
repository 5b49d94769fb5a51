// `sys`: thin, fast wrappers of POSIX calls on integer fds, one module per
// subject behind one export. Arguments are checked before any syscall (coded
// errors, lib/errors.ts); a call that would block returns -1 (or null where
// the call returns an object), never throws; every other failure throws a
// SystemError (code, errno, syscall). Every fd made here is non-blocking and
// close-on-exec. A call this platform lacks throws ERR_NOT_SUPPORTED, and
// supports(name) says so in advance.
import { codedRangeError, codedTypeError, describe } from '../errors.js';
import { binding } from '../native.js';
import * as fd from './fd.js';
import * as files from './files.js';
import * as linux from './linux.js';
import * as msg from './msg.js';
import * as net from './net.js';
import * as proc from './process.js';
import * as tty from './tty.js';

export * from './fd.js';
export * from './files.js';
export * from './linux.js';
export * from './msg.js';
export * from './net.js';
export * from './process.js';
export * from './tty.js';

const calls = new Set<string>();
for (const module of [fd, files, linux, msg, net, proc, tty] as object[]) {
  for (const [name, value] of Object.entries(module)) if (typeof value === 'function') calls.add(name);
}
calls.add('supports');

/**
 * Whether this platform and build have the sys call `name`: false for a call
 * that would throw `ERR_NOT_SUPPORTED` here (e.g. `eventfd` off Linux), true
 * for every other call of `sys`.
 * @throws `ERR_INVALID_ARG_TYPE` (TypeError) when `name` is not a string.
 * @throws `ERR_INVALID_ARG_VALUE` (RangeError) when `sys` has no call of that name.
 *
 * @example
 * ```ts
 * import { sys } from 'node-selectors';
 * if (sys.supports('pidfdOpen')) console.log('child exits can be waited for with a pidfd');
 * ```
 */
export function supports(name: string): boolean {
  if (typeof name !== 'string') {
    throw codedTypeError('ERR_INVALID_ARG_TYPE', `name must be a string, got ${describe(name)}`);
  }
  if (!calls.has(name)) throw codedRangeError('ERR_INVALID_ARG_VALUE', `sys has no call named ${JSON.stringify(name)}`);
  return binding.sys.supported[name] ?? true;
}
