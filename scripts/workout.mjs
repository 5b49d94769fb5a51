// Exercises every native entry point of the addon for a memory checker:
// selectors on each backend (register, modify, select, errors, close, GC'd
// without close, trigger modes, priority, wakeup), the sys calls and the
// reactors' signal table.
// Usage: node scripts/workout.mjs [cycles]
import { availableBackends, EVENT_PRIORITY, EVENT_READ, EVENT_WRITE, sys, wakeupSelector } from '../dist/lib/index.js';
import { selectorClass } from '../dist/lib/index.js';

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
// The reactors' signal table (native/signals.cc): watch, unwatch, release,
// reinstall, installed and the handler itself (a real signal per cycle), the
// error paths, and a reactor's signal handler under run().
{
  const { binding } = await import('../dist/lib/native.js');
  const { Reactor } = await import('../dist/lib/index.js');
  const signals = binding.signals;
  const { SIGUSR2, SIGWINCH } = (await import('node:os')).constants.signals;
  for (let i = 0; i < cycles / 100; i++) {
    const [r, w] = sys.pipe();
    signals.watch(w, SIGUSR2);
    signals.watch(w, SIGWINCH);
    signals.installed(SIGUSR2);
    signals.reinstall(SIGUSR2);
    process.kill(process.pid, 'SIGUSR2');
    sys.read(r, buf);
    signals.unwatch(w, SIGUSR2);
    signals.unwatch(w, SIGUSR2); // not watched: false
    signals.release(w);
    signals.release(w); // released: false
    for (const bad of [() => signals.watch(-1, SIGUSR2), () => signals.watch(w, 9), () => signals.watch(w, 0), () => signals.unwatch('x', SIGUSR2)]) {
      try {
        bad();
      } catch {}
    }
    sys.close(r);
    sys.close(w);
  }
  const reactor = new Reactor();
  let seen = 0;
  reactor.addSignalHandler('SIGUSR2', () => {
    if (++seen === 10) reactor.removeSignalHandler('SIGUSR2');
    else reactor.callSoon(() => process.kill(process.pid, 'SIGUSR2'));
  });
  reactor.callSoon(() => process.kill(process.pid, 'SIGUSR2'));
  reactor.run();
  reactor.close();
}
console.log('workout done');

