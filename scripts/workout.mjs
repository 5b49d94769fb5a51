// Exercises every native entry point of the addon for a memory checker:
// selectors on each backend (register, modify, select, errors, close, GC'd
// without close, trigger modes, priority, wakeup) and the sys calls.
// Usage: node scripts/workout.mjs [cycles]
import { availableBackends, EVENT_PRIORITY, EVENT_READ, EVENT_WRITE, sys, wakeupSelector } from '../dist/lib/index.js';
import { selectorClass } from '../dist/lib/index.js';
import { closeSync, constants, existsSync, openSync } from 'node:fs';

const cycles = Number(process.argv[2] ?? 10000);
const buf = new Uint8Array(64);
for (const name of availableBackends()) {
  const sel = new (selectorClass(name))();
  const pairs = Array.from({ length: 100 }, () => sys.socketpair());
  for (const [a] of pairs) sel.register(a, EVENT_READ, a);
  for (let i = 0; i < cycles; i++) {
    const [a, b] = pairs[i % pairs.length];
    sys.write(b, buf, 0, 8);
    sel.modify(a, EVENT_READ | EVENT_WRITE);
    if (sel.select(0).length === 0) throw new Error('nothing ready');
    sys.read(a, buf);
    sel.modify(a, EVENT_READ);
    try {
      sel.register(999_999, EVENT_READ); // EBADF (or ERR_FD_OUT_OF_RANGE): the error path
    } catch {}
  }
  for (const [a] of pairs) sel.unregister(a);
  sel.close();
  for (const [a, b] of pairs) {
    sys.close(a);
    sys.close(b);
  }
  new (selectorClass(name))(); // dropped without close(): the finalizer frees it

  // Trigger modes, priority and the wakeup channel.
  const extra = new (selectorClass(name))();
  const [c, d] = sys.socketpair();
  for (const trigger of ['level', 'edge', 'oneshot']) {
    try {
      extra.register(c, EVENT_READ | EVENT_PRIORITY, null, { trigger });
    } catch {
      continue; // ERR_UNSUPPORTED_TRIGGER
    }
    for (let i = 0; i < cycles / 10; i++) {
      sys.write(d, buf, 0, 1);
      extra.select(0);
      sys.read(c, buf);
      extra.modify(c, EVENT_READ);
      extra.wakeup();
      wakeupSelector(extra.wakeupHandle());
      extra.selectRaw(0.01);
    }
    extra.unregister(c);
  }
  // A file that answers POLLPRI | POLLERR once per change and is always
  // readable (the mount table): each trigger, each interest with priority.
  if (existsSync('/proc/self/mountinfo') && extra.supportedEvents & EVENT_PRIORITY) {
    const mounts = openSync('/proc/self/mountinfo', constants.O_RDONLY | constants.O_NONBLOCK);
    for (const trigger of ['level', 'edge', 'oneshot']) {
      for (const events of [EVENT_PRIORITY, EVENT_READ | EVENT_PRIORITY]) {
        try {
          extra.register(mounts, events, null, { trigger });
        } catch {
          continue; // ERR_UNSUPPORTED_TRIGGER
        }
        for (let i = 0; i < cycles / 100; i++) extra.select(0);
        extra.unregister(mounts);
      }
    }
    closeSync(mounts);
  }
  const handle = extra.wakeupHandle();
  extra.close();
  wakeupSelector(handle); // a closed selector's handle: does nothing
  sys.close(c);
  sys.close(d);
  new (selectorClass(name))().wakeup(); // a wakeup channel freed by the finalizer
}
try {
  sys.read(999_999, buf);
} catch {}

// Sockets: IPv4, IPv6 and Unix addresses both ways, options, gathered
// writes, urgent data, and the error paths of each call.
const unixPath = `\0node-selectors-workout-${process.pid}`;
for (const [family, host] of [[sys.AF_INET, '127.0.0.1'], [sys.AF_INET6, '::1'], [sys.AF_UNIX, unixPath]]) {
  const listener = sys.socket(family);
  try {
    if (family === sys.AF_UNIX) sys.bind(listener, host);
    else sys.bind(listener, host, 0);
  } catch {
    sys.close(listener); // no IPv6 loopback here
    continue;
  }
  sys.listen(listener);
  const name = sys.getsockname(listener);
  for (let i = 0; i < cycles / 100; i++) {
    const client = sys.socket(family);
    if (family === sys.AF_UNIX) sys.connect(client, host);
    else sys.connect(client, host, name.port);
    let server = -1;
    while (server === -1) server = sys.accept(listener);
    sys.getpeername(server);
    sys.getsockname(client);
    if (family !== sys.AF_UNIX) {
      sys.setsockopt(client, sys.IPPROTO_TCP, sys.TCP_NODELAY, true);
      sys.getsockopt(client, sys.IPPROTO_TCP, sys.TCP_NODELAY);
    }
    sys.getsockoptError(client);
    sys.writev(client, [buf.subarray(0, 3), buf.subarray(3, 8)]);
    while (sys.recv(server, buf, 0, 8) === -1);
    sys.send(server, buf, 0, 8, family === sys.AF_UNIX ? 0 : sys.MSG_OOB);
    sys.shutdown(client, sys.SHUT_WR);
    sys.close(server);
    try {
      sys.send(client, buf); // EPIPE: the error path
    } catch {}
    sys.close(client);
  }
  sys.close(listener);
}
const refused = sys.socket(sys.AF_INET);
sys.connect(refused, '127.0.0.1', 1); // in progress, then refused
try {
  sys.getpeername(999_999);
} catch {}
sys.close(refused);
// Slots: a closed selector's slot refuses waits; selectors left open at exit
// are freed by the environment's teardown along with the slot table.
const { binding } = await import('../dist/lib/native.js');
const native = new binding.Selector(availableBackends()[0]);
const slot = native.slot();
native.close();
try {
  binding.wait(slot, 0);
} catch {}
globalThis.leftOpen = availableBackends().map((name) => new (selectorClass(name))());
console.log('workout done');
