// A kernel that refuses io_uring (disabled by sysctl, filtered by seccomp,
// too old): simulated for real by making io_uring_setup fail in a child
// process with strace's fault injection. io_uring drops out of
// availableBackends(), its constructor throws ERR_BACKEND_UNAVAILABLE with
// the kernel's error as cause, and everything else works.
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { binding } from '../lib/native.js';
import { DIST_INDEX } from './helpers.js';

// strace must exist and be allowed to trace (some containers forbid ptrace).
const strace = spawnSync('strace', ['-qq', '-o', '/dev/null', 'true']).status === 0;

describe.runIf(strace && binding.backends.includes('io_uring'))('io_uring refused by the kernel', () => {
  it.each(['EPERM', 'ENOSYS'])('io_uring_setup fails with %s: unavailable, and the rest works', (errno) => {
    const code = `
      import * as lib from ${JSON.stringify(DIST_INDEX)};
      let error = null;
      try { new lib.IoUringSelector(); } catch (e) { error = { code: e.code, cause: e.cause?.code, syscall: e.cause?.syscall }; }
      const sel = new lib.DefaultSelector();
      const [a, b] = lib.sys.socketpair();
      sel.register(a, lib.EVENT_READ);
      lib.sys.write(b, new Uint8Array([1]));
      const ready = sel.select(1000).length;
      console.log(JSON.stringify({ available: lib.availableBackends(), error, backend: sel.backend, ready }));`;
    const r = spawnSync(
      'strace',
      ['-f', '-qq', '-o', '/dev/null', '-e', 'trace=io_uring_setup', '-e', `inject=io_uring_setup:error=${errno}`,
        process.execPath, '--input-type=module', '-e', code],
      // The child picks its own default: io_uring forced would be refused.
      { encoding: 'utf8', timeout: 60_000, env: { ...process.env, NODE_SELECTORS_BACKEND: '' } },
    );
    expect(r.stderr).toBe('');
    const available = binding.backends.filter((b) => b !== 'io_uring');
    expect(JSON.parse(r.stdout)).toEqual({
      available,
      error: { code: 'ERR_BACKEND_UNAVAILABLE', cause: errno, syscall: 'io_uring_setup' },
      backend: available[0],
      ready: 1,
    });
  }, 60_000);
});
