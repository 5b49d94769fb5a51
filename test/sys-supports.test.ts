// sys.supports(name): true for every call of sys this build has, false for an
// optional call it lacks (which then throws ERR_NOT_SUPPORTED), a coded error
// for a name sys does not have.
import { describe, expect, it } from 'vitest';
import { sys } from '../lib/index.js';
import { binding } from '../lib/native.js';

const callNames = Object.entries(sys)
  .filter(([, value]) => typeof value === 'function')
  .map(([name]) => name);

describe('sys.supports', () => {
  it('answers true for the calls every platform has', () => {
    for (const name of ['read', 'write', 'close', 'pipe', 'socket', 'socketpair', 'supports']) {
      expect(sys.supports(name), name).toBe(true);
    }
  });

  it('answers for every call of sys, and every optional call the addon names is a call of sys', () => {
    for (const name of callNames) expect(typeof sys.supports(name), name).toBe('boolean');
    for (const name of Object.keys(binding.sys.supported)) expect(callNames, name).toContain(name);
  });

  it('says false exactly where the call throws ERR_NOT_SUPPORTED', () => {
    for (const [name, supported] of Object.entries(binding.sys.supported)) {
      if (supported) continue;
      const call = (sys as unknown as Record<string, (...args: unknown[]) => unknown>)[name]!;
      expect(() => call(0, 0, 0), name).toThrow(expect.objectContaining({ code: 'ERR_NOT_SUPPORTED' }));
    }
  });

  it('refuses a name sys does not have, and a name that is not a string', () => {
    expect(() => sys.supports('fork')).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE', name: 'RangeError' }));
    expect(() => sys.supports('constants')).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }));
    expect(() => sys.supports(42 as unknown as string)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE', name: 'TypeError' }));
  });
});
