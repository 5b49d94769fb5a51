// Exercises every native entry point of the addon for a memory checker:
// selectors on each backend (register, modify, select, errors, close, GC'd
// without close, trigger modes, priority, wakeup), the sys calls and the
// reactors' signal table.
// Usage: node scripts/workout.mjs [cycles]
import { availableBackends, EVENT_PRIORITY, EVENT_READ, EVENT_WRITE, sys, wakeupSelector } from '../dist/lib/index.js';
import { selectorClass } from '../dist/lib/index.js';
import { closeSync, constants, existsSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';

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
// Linux's event fds (native/sys_linux.cc): each call, its error paths, and
// its fd in a selector; only the families this build and kernel have.
function linuxEventFds() {
  const sel = new (selectorClass(availableBackends()[0]))();
  const counter = new Uint8Array(8);
  const attempt = (call) => {
    try {
      call();
    } catch {}
  };
  if (sys.supports('eventfd')) {
    for (let i = 0; i < cycles / 10; i++) {
      const fd = sys.eventfd(i % 2, { semaphore: i % 3 === 0 });
      counter.fill(0);
      counter[0] = 1;
      sys.write(fd, counter);
      sel.register(fd, EVENT_READ | EVENT_WRITE);
      sel.select(0);
      sel.unregister(fd);
      sys.read(fd, counter);
      attempt(() => sys.read(fd, counter.subarray(0, 4))); // EINVAL
      sys.close(fd);
    }
  }
  if (sys.supports('timerfd')) {
    const fd = sys.timerfd();
    sel.register(fd, EVENT_READ);
    for (let i = 0; i < cycles / 100; i++) {
      sys.timerfdSet(fd, 0.001, i % 2 ? 0.5 : 0);
      sel.select(100);
      sys.read(fd, counter);
      sys.timerfdSet(fd, 0);
    }
    sel.unregister(fd);
    sys.close(fd);
    attempt(() => binding.sys.timerfdSet(-1, NaN, 0)); // the addon's own range check
    attempt(() => sys.timerfdSet(999_999, 1)); // EBADF
  }
  if (sys.supports('inotifyInit')) {
    const fd = sys.inotifyInit();
    const buf = new Uint8Array(4096);
    for (let i = 0; i < cycles / 100; i++) {
      const wd = sys.inotifyAddWatch(fd, process.cwd(), sys.IN_ALL_EVENTS);
      attempt(() => sys.inotifyAddWatch(fd, `/nonexistent-${i}`, sys.IN_CREATE)); // ENOENT
      attempt(() => binding.sys.inotifyAddWatch(fd, 'a\0b', sys.IN_CREATE)); // NUL, refused by the addon
      sys.inotifyRemoveWatch(fd, wd);
      attempt(() => sys.inotifyRemoveWatch(fd, wd)); // EINVAL
      for (let n = sys.read(fd, buf); n > 0; n = sys.read(fd, buf)) sys.parseInotify(buf, n);
    }
    sys.close(fd);
  }
  if (sys.supports('pidfdOpen')) {
    for (let i = 0; i < cycles / 100; i++) {
      const fd = sys.pidfdOpen(process.pid);
      sel.register(fd, EVENT_READ);
      sel.select(0);
      sel.unregister(fd);
      sys.close(fd);
      attempt(() => binding.sys.pidfdOpen(0)); // refused by the addon
    }
  }
  sel.close();
}
linuxEventFds();
globalThis.leftOpen = availableBackends().map((name) => new (selectorClass(name))());
filesAndTerminals(cycles / 100);

// Datagrams and messages with fds: sendto/recvfrom over UDP and Unix paths
// (addresses both ways, truncation, an unnamed sender), multicast
// membership, sendmsg/recvmsg passing fds (kept, closed beyond maxFds,
// truncated), peer credentials, and the error paths.
function msgWorkout(n) {
  const data = new Uint8Array(64);
  const small = new Uint8Array(4);
  const unixA = `\0node-selectors-workout-dgram-a-${process.pid}`;
  const unixB = `\0node-selectors-workout-dgram-b-${process.pid}`;
  const a = sys.socket(sys.AF_UNIX, sys.SOCK_DGRAM);
  const b = sys.socket(sys.AF_UNIX, sys.SOCK_DGRAM);
  sys.bind(a, unixA);
  sys.bind(b, unixB);
  const anon = sys.socket(sys.AF_UNIX, sys.SOCK_DGRAM);
  const u4 = sys.socket(sys.AF_INET, sys.SOCK_DGRAM);
  sys.bind(u4, '127.0.0.1', 0);
  const port4 = sys.getsockname(u4).port;
  let u6 = -1;
  let port6 = 0;
  try {
    u6 = sys.socket(sys.AF_INET6, sys.SOCK_DGRAM);
    sys.bind(u6, '::1', 0);
    port6 = sys.getsockname(u6).port;
  } catch {
    if (u6 >= 0) sys.close(u6);
    u6 = -1; // no IPv6 loopback here
  }
  const [p0, p1] = sys.pipe();
  const [s0, s1] = sys.socketpair(sys.SOCK_DGRAM);
  for (let i = 0; i < n; i++) {
    sys.sendto(b, data, unixA);
    sys.recvfrom(a, small); // truncated
    sys.sendto(anon, data, unixA);
    sys.recvfrom(a, data); // no address
    sys.sendto(u4, data, '127.0.0.1', port4);
    sys.recvfrom(u4, data);
    if (u6 >= 0) {
      sys.sendto(u6, data, '::1', port6);
      sys.recvfrom(u6, data);
    }
    sys.recvfrom(u4, data); // would block
    sys.sendmsg(s0, [data.subarray(0, 3), data.subarray(3, 9)], { fds: [p0, p1, p0] });
    const m = sys.recvmsg(s1, small, { maxFds: 2 }); // two kept, one closed, truncated
    for (const fd of m.fds) sys.close(fd);
    sys.sendmsg(a, data, { fds: [p1], host: unixB });
    const k = sys.recvmsg(b, data);
    for (const fd of k.fds) sys.close(fd);
    sys.recvmsg(s1, data); // would block
    sys.socketpair(sys.SOCK_SEQPACKET ?? sys.SOCK_DGRAM).forEach((fd) => sys.close(fd));
    if (sys.supports('peerCredentials')) sys.peerCredentials(s0);
    for (const call of [
      () => sys.sendto(b, data, '/nonexistent/socket'), // ENOENT
      () => sys.sendmsg(s0, data, { fds: [999_999] }), // EBADF
      () => sys.recvmsg(999_999, data),
      () => sys.recvfrom(p0, data), // ENOTSOCK
      () => sys.addMembership(u4, '10.0.0.1'), // EINVAL
      () => sys.addMembership(u4, 'ff02::1', 'no-such-if0'),
      () => sys.peerCredentials(p0),
    ]) {
      try {
        call();
      } catch {}
    }
    try {
      sys.addMembership(u4, '239.255.42.3', '127.0.0.1');
      sys.dropMembership(u4, '239.255.42.3', '127.0.0.1');
    } catch {}
  }
  for (const fd of [a, b, anon, u4, p0, p1, s0, s1]) sys.close(fd);
  if (u6 >= 0) sys.close(u6);
}
msgWorkout(Math.max(10, cycles / 100));
await inboxes(cycles / 10);

// Cross-thread inboxes (native/inbox.cc): posts from this thread and from a
// worker, delivery under run(), the full, closed and unknown-handle errors,
// close() with messages queued, and an inbox dropped without close().
async function inboxes(count) {
  const { Reactor, postToInbox } = await import('../dist/lib/index.js');
  const { Worker } = await import('node:worker_threads');
  const attempt = (call) => {
    try {
      call();
    } catch {}
  };
  const reactor = new Reactor();
  let seen = 0;
  const inbox = reactor.inbox(() => {
    if (++seen === 2 * count) inbox.close();
  });
  for (let i = 0; i < count; i++) postToInbox(inbox.handle, { i, data: new Uint8Array([i & 255]) });
  const worker = new Worker(
    `const { workerData } = require('node:worker_threads');
     import(${JSON.stringify(new URL('../dist/lib/index.js', import.meta.url).href)}).then((lib) => {
       for (let i = 0; i < workerData.count; i++) lib.postToInbox(workerData.handle, [i, 'from a worker']);
     });`,
    { eval: true, workerData: { handle: inbox.handle, count } },
  );
  reactor.run();
  await new Promise((resolve) => worker.once('exit', resolve));
  attempt(() => postToInbox(inbox.handle, 1)); // ERR_INBOX_CLOSED
  attempt(() => postToInbox(2 ** 52, 1)); // ERR_INVALID_ARG_VALUE
  attempt(() => postToInbox(1, () => 1)); // could not be cloned
  const small = reactor.inbox(() => {}, { maxQueuedBytes: 64 });
  for (let i = 0; i < 10; i++) attempt(() => postToInbox(small.handle, 'x'.repeat(20))); // ERR_INBOX_FULL
  small.close(); // drops what is queued
  for (let i = 0; i < 3; i++) postToInbox(reactor.inbox(() => {}).handle, i); // closed with the reactor's selector
  reactor.close();
  const { binding } = await import('../dist/lib/native.js');
  for (let i = 0; i < 3; i++) binding.inboxPost(new binding.Inbox(1024).handle(), new Uint8Array(8)); // dropped open: the finalizer frees them
}
childProcesses(Math.max(5, cycles / 1000));

// Child processes (native/spawn.cc): spawn with each stdio form, a cwd and
// an env; waitpid blocking and not; kqueueWatchExit where kqueue exists;
// and the error paths (an exec failure, bad arguments refused by the addon).
function childProcesses(rounds) {
  const attempt = (call) => {
    try {
      call();
    } catch {}
  };
  for (let i = 0; i < rounds; i++) {
    const [r, w] = sys.pipe();
    sys.setNonBlocking(w, false);
    const pid = binding.sys.spawn('/bin/sh', ['sh', '-c', 'echo $X; exit 3'], ['X=1'], '/', [-1, w, -2]);
    sys.close(w);
    const kq = sys.supports('kqueueWatchExit') ? sys.kqueueWatchExit(pid) : -1;
    if (sys.waitpid(pid) === null) sys.waitpid(pid, true);
    if (kq >= 0) sys.close(kq);
    sys.read(r, buf);
    sys.close(r);
    attempt(() => sys.waitpid(pid)); // ECHILD
    attempt(() => binding.sys.spawn('/no/such/program', ['x'], [], null, [-1, -1, -1])); // ENOENT from posix_spawn
    attempt(() => binding.sys.spawn('/bin/true', ['true'], [], '/no/such/dir', [-1, -1, -1])); // the chdir's ENOENT
    attempt(() => binding.sys.spawn('/bin/true', ['a\0b'], [], null, [-1, -1, -1])); // NUL
    attempt(() => binding.sys.spawn('/bin/true', ['true', 1], [], null, [-1, -1, -1])); // not a string
    attempt(() => binding.sys.spawn('/bin/true', ['true'], [], null, [-1, -3, -1])); // stdio out of range
    attempt(() => binding.sys.spawn('/bin/true', [], [], null, [-1, -1, -1])); // no argv[0]
    attempt(() => binding.sys.waitpid(0, false));
    if (sys.supports('kqueueWatchExit')) attempt(() => binding.sys.kqueueWatchExit(0));
  }
}

// Files and terminals: open, readv, sendfile (the kernel's and the pread/write
// step), ptys and termios, window sizes, and the error paths of each.
function filesAndTerminals(rounds) {
  const dir = mkdtempSync('/tmp/node-selectors-workout-');
  writeFileSync(`${dir}/f`, new Uint8Array(100_000).fill(7));
  const big = new Uint8Array(200_000);
  for (let i = 0; i < rounds; i++) {
    const f = sys.open(`${dir}/f`);
    const [a, b] = sys.socketpair();
    sys.sendfile(a, f, i, 5000);
    sys.readv(b, [buf, big]);
    const [r, w] = sys.pipe();
    sys.sendfile(w, f, 0, 100_000);
    sys.readv(r, [big.subarray(0, 10), big.subarray(10)]);
    const out = sys.open(`${dir}/out`, sys.O_WRONLY | sys.O_CREAT | sys.O_TRUNC | sys.O_APPEND, 0o600);
    sys.sendfile(out, f, 0, 100_000); // refused by Linux's sendfile (O_APPEND): the pread/write step
    try {
      sys.sendfile(a, r, 0, 10); // ESPIPE
    } catch {}
    try {
      sys.open(`${dir}/missing`);
    } catch {}
    try {
      binding.sys.open(`${dir}/f\0x`, 0, 0);
    } catch {}
    try {
      binding.sys.readv(b, [buf, {}]);
    } catch {}
    for (const fd of [f, a, b, r, w, out]) sys.close(fd);

    const [controller, terminal] = sys.openpty();
    sys.isatty(controller);
    sys.ttyname(terminal);
    const t = sys.tcgetattr(terminal);
    const raw = sys.cfmakeraw(t);
    sys.tcsetattr(terminal, { ...raw, ispeed: 115200, ospeed: 115200 });
    sys.tcsetattr(terminal, t, 'flush');
    sys.setWindowSize(controller, { rows: 24 + (i % 10), cols: 80 });
    sys.getWindowSize(terminal);
    sys.write(controller, buf, 0, 8);
    const [p, q] = sys.pipe();
    for (const call of [
      () => binding.sys.tcsetattr(terminal, { ...t, ispeed: 12345, ospeed: 12345 }, 0),
      () => binding.sys.tcsetattr(terminal, { ...t, cc: new Uint8Array(3) }, 0),
      () => binding.sys.cfmakeraw({ ...t, lflag: 'x' }),
      () => sys.tcgetattr(p), // ENOTTY
      () => sys.ttyname(999_999),
      () => sys.isatty(999_999),
      () => binding.sys.setWindowSize(controller, 70_000, 1),
    ]) {
      try {
        call();
      } catch {}
    }
    sys.close(p);
    sys.close(q);
    sys.close(terminal);
    try {
      sys.read(controller, buf); // EIO on Linux
    } catch {}
    sys.close(controller);
  }
  rmSync(dir, { recursive: true, force: true });
}

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
