// Many fds: select stops at FD_SETSIZE without touching memory past its
// fd_set; the other backends watch more than 1,100 fds.
import { describe, expect, it } from 'vitest';
import { EVENT_WRITE, FD_SETSIZE, SelectSelector } from '../lib/index.js';
import { BACKENDS, kqueueLimit, socketpair, track } from './helpers.js';

function manySockets(count: number): number[] {
  const fds: number[] = [];
  while (fds.length < count) fds.push(...socketpair());
  return fds;
}

describe('more fds than FD_SETSIZE', () => {
  it('SelectSelector takes fds below FD_SETSIZE and rejects the rest', () => {
    const fds = manySockets(1100);
    const high = fds.filter((fd) => fd >= FD_SETSIZE);
    const low = fds.filter((fd) => fd < FD_SETSIZE);
    expect(high.length).toBeGreaterThan(0);
    const sel = track(new SelectSelector());
    for (const fd of low) sel.register(fd, EVENT_WRITE);
    for (const fd of high) {
      expect(() => sel.register(fd, EVENT_WRITE)).toThrow(expect.objectContaining({ code: 'ERR_FD_OUT_OF_RANGE' }));
    }
    const ready = sel.select(0);
    expect(new Set(ready.map(([k]) => k.fd))).toEqual(new Set(low));
    expect(sel.getMap().size).toBe(low.length);
  });

  describe.each(BACKENDS.filter((b) => b.backend !== 'select'))(
    '$name',
    ({ backend, create }) => {
      // libkqueue returns at most 512 events per kevent() (R3).
      it.skipIf(kqueueLimit(backend, 'kqueueAtMost512'))('selects over 1,100 fds, some above FD_SETSIZE', () => {
        const fds = manySockets(1100);
        expect(Math.max(...fds)).toBeGreaterThanOrEqual(FD_SETSIZE);
        const sel = track(create());
        for (const fd of fds) sel.register(fd, EVENT_WRITE);
        const ready = sel.select(1000);
        expect(ready.length).toBe(fds.length);
        expect(new Set(ready.map(([k]) => k.fd))).toEqual(new Set(fds));
      });
    },
  );
});
