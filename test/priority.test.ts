// EVENT_PRIORITY on every backend, with real TCP urgent data (MSG_OOB) over
// loopback: POLLPRI, EPOLLPRI, io_uring's POLLPRI and select's exceptfds.
import { describe, expect, it } from 'vitest';
import { EVENT_PRIORITY, EVENT_READ, EVENT_WRITE, sys, type BaseSelector } from '../lib/index.js';
import { BACKENDS, backendHas, enc, owned, track } from './helpers.js';

const fds = (sel: BaseSelector, timeout = 0) => sel.select(timeout).map(([k, ev]) => [k.fd, ev]);

/** A connected TCP pair on 127.0.0.1 (blocking accept is fine: the connection is queued). */
function tcpPair(): [client: number, server: number] {
  const listener = owned(sys.socket(sys.AF_INET, sys.SOCK_STREAM));
  sys.bind(listener, '127.0.0.1', 0);
  sys.listen(listener, 1);
  const name = sys.getsockname(listener);
  if (!('port' in name)) throw new Error('expected an IP address');
  const client = owned(sys.socket(sys.AF_INET, sys.SOCK_STREAM));
  sys.connect(client, '127.0.0.1', name.port);
  // The listener is non-blocking: wait for the connection with a selector.
  using sel = new (BACKENDS[0]!.create().constructor as new () => BaseSelector)();
  sel.register(listener, EVENT_READ);
  expect(sel.select(5000).length).toBe(1);
  const server = owned(sys.accept(listener));
  sys.setsockopt(client, sys.IPPROTO_TCP, sys.TCP_NODELAY, true);
  return [client, server];
}

// FreeBSD's kqueue and libkqueue have no filter for out-of-band data
// (EVFILT_EXCEPT is macOS, OpenBSD and NetBSD): there the kqueue backend
// says so in supportedEvents and refuses EVENT_PRIORITY with a coded error.
const noPriority = (backend: string) => !backendHas(backend, 'priority');

describe.each(BACKENDS.filter((b) => noPriority(b.backend)))('$name', ({ create }) => {
  it('refuses EVENT_PRIORITY with ERR_UNSUPPORTED_EVENTS, in register and modify, and changes nothing', () => {
    const sel = track(create());
    const [, server] = tcpPair();
    expect(sel.supportedEvents).toBe(EVENT_READ | EVENT_WRITE);
    for (const events of [EVENT_PRIORITY, EVENT_READ | EVENT_PRIORITY]) {
      expect(() => sel.register(server, events)).toThrow(expect.objectContaining({ code: 'ERR_UNSUPPORTED_EVENTS' }));
    }
    expect(sel.getMap().size).toBe(0);
    const key = sel.register(server, EVENT_READ);
    expect(() => sel.modify(server, EVENT_READ | EVENT_PRIORITY)).toThrow(
      expect.objectContaining({ code: 'ERR_UNSUPPORTED_EVENTS', message: expect.stringMatching(/EVENT_PRIORITY/) }),
    );
    expect(sel.getKey(server)).toBe(key);
  });
});

describe.each(BACKENDS.filter((b) => !noPriority(b.backend)))('$name', ({ create }) => {
  it('an urgent byte makes the receiver ready for EVENT_PRIORITY until it is read with MSG_OOB', () => {
    const sel = track(create());
    const [client, server] = tcpPair();
    sel.register(server, EVENT_PRIORITY);
    expect(fds(sel)).toEqual([]);
    sys.send(client, new Uint8Array([0x21]), 0, 1, sys.MSG_OOB);
    expect(fds(sel, 5000)).toEqual([[server, EVENT_PRIORITY]]);
    // Level-triggered: reported again while the urgent byte is unread.
    expect(fds(sel)).toEqual([[server, EVENT_PRIORITY]]);
    const one = new Uint8Array(1);
    expect(sys.recv(server, one, 0, 1, sys.MSG_OOB)).toBe(1);
    expect(one[0]).toBe(0x21);
    expect(fds(sel)).toEqual([]);
  });

  it('ordinary data is not priority data: READ without PRIORITY, then both in one entry', () => {
    const sel = track(create());
    const [client, server] = tcpPair();
    sel.register(server, EVENT_READ | EVENT_PRIORITY);
    sys.send(client, enc('abc'));
    expect(fds(sel, 5000)).toEqual([[server, EVENT_READ]]);
    sys.send(client, enc('!'), 0, 1, sys.MSG_OOB);
    // Wait until the urgent byte has arrived too.
    const deadline = Date.now() + 5000;
    let ready = fds(sel, 100);
    while (ready[0]?.[1] !== (EVENT_READ | EVENT_PRIORITY) && Date.now() < deadline) ready = fds(sel, 100);
    expect(ready).toEqual([[server, EVENT_READ | EVENT_PRIORITY]]);
  });

  it('a key without EVENT_PRIORITY is never told about urgent data', () => {
    const sel = track(create());
    const [client, server] = tcpPair();
    sel.register(server, EVENT_WRITE);
    sys.send(client, new Uint8Array([1]), 0, 1, sys.MSG_OOB);
    for (let i = 0; i < 3; i++) expect(fds(sel, 10)).toEqual([[server, EVENT_WRITE]]);
  });
});
