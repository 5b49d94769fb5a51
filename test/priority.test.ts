// EVENT_PRIORITY on every backend, with real TCP urgent data (MSG_OOB) over
// loopback: POLLPRI, EPOLLPRI, io_uring's POLLPRI and select's exceptfds;
// and with /proc/self/mountinfo, which reports a change of the mount table
// once to each open file, as sysfs attributes (GPIO values) report theirs.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { EVENT_PRIORITY, EVENT_READ, EVENT_WRITE, sys, type BaseSelector, type Trigger } from '../lib/index.js';
import { BACKENDS, backendHas, DIST_INDEX, enc, owned, track } from './helpers.js';

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

// The mount table's poll (mounts_poll) answers EPOLLPRI | EPOLLERR once per
// change to each open file, to the first poll that looks, and POLLIN always:
// the condition is consumed by being seen, as a sysfs attribute's after
// sysfs_notify (the GPIO case EVENT_PRIORITY exists for). A backend that
// polls the file twice for one report (a check after a completion, a
// re-armed request) must still report what the first poll saw.
//
// The cases of a backend run in a child node process in a mount namespace
// of its own (unshare --mount --propagation private), which mounts a tmpfs
// on a temporary directory and watches its own /proc/self/mountinfo, a new
// open file for each case: the host's mount table never changes. Mounting
// needs CAP_SYS_ADMIN (and unshare(1)).
const mountPoint = mkdtempSync(join(tmpdir(), 'node-selectors-mnt-'));
afterAll(() => rmdirSync(mountPoint));

const UNSHARE = ['--mount', '--propagation', 'private'];
let mountReason: string | null | undefined;
/** Why no mount namespace can mount a tmpfs here, or null when one can. */
function mountingNotPermitted(): string | null {
  if (mountReason !== undefined) return mountReason;
  const r = spawnSync('unshare', [...UNSHARE, 'mount', '-t', 'tmpfs', 'none', mountPoint], { encoding: 'utf8' });
  mountReason =
    r.status === 0 ? null : `mounting is not permitted here (unshare --mount, mount -t tmpfs: ${r.error?.message ?? r.stderr.trim()})`;
  return mountReason;
}

/** Steps of a case: `s` select(0); `S` select(5000) while a child process
 * mounts a moment later; `m` mount; `u` unmount. */
type Step = 's' | 'S' | 'm' | 'u';
interface MountinfoCase {
  events: number;
  trigger: Trigger;
  steps: Step[];
}

const R = EVENT_READ;
const P = EVENT_PRIORITY;
const CASES = {
  // Always readable (POLLIN), so a level request completes as it is armed.
  levelReadPriority: { events: R | P, trigger: 'level', steps: ['s', 's', 'm', 's', 's', 'u', 's', 's'] },
  // Never ready before a change: a request stays armed across selects.
  levelPriority: { events: P, trigger: 'level', steps: ['s', 'm', 's', 's', 'u', 's', 's'] },
  levelPriorityBlocking: { events: P, trigger: 'level', steps: ['s', 'S', 's'] },
  edgeReadPriority: { events: R | P, trigger: 'edge', steps: ['s', 's', 'm', 's', 's', 'u', 's', 's'] },
  oneshotPriority: { events: P, trigger: 'oneshot', steps: ['s', 'm', 's', 's', 'u', 's'] },
} satisfies Record<string, MountinfoCase>;

const seenOn = new Map<string, Record<string, number[]>>();
/** What each select of each case reported for its fd on backend `name` (0:
 * not reported), the cases of triggers the backend lacks left out. Every
 * case opens mountinfo anew, registers it for its events and trigger, runs
 * its steps, and unmounts what it mounted. */
function mountinfoSeen(name: string): Record<string, number[]> {
  const known = seenOn.get(name);
  if (known !== undefined) return known;
  const code = `
    import { DefaultSelector, selectorClass } from ${JSON.stringify(DIST_INDEX)};
    import { execFileSync, spawn } from 'node:child_process';
    import { once } from 'node:events';
    import { closeSync, constants, openSync } from 'node:fs';
    const { name, cases, dir } = JSON.parse(process.env.MOUNTINFO_CASES);
    const seenByCase = {};
    for (const [caseName, { events, trigger, steps }] of Object.entries(cases)) {
      const sel = name === 'DefaultSelector' ? new DefaultSelector() : new (selectorClass(name))();
      if (!sel.supportsTrigger(trigger)) {
        sel.close();
        continue;
      }
      const fd = openSync('/proc/self/mountinfo', constants.O_RDONLY | constants.O_NONBLOCK);
      sel.register(fd, events, undefined, { trigger });
      const seen = [];
      const report = (ready) => seen.push(ready.find(([key]) => key.fd === fd)?.[1] ?? 0);
      let mounted = 0;
      for (const step of steps) {
        if (step === 's') report(sel.select(0));
        if (step === 'm') execFileSync('mount', ['-t', 'tmpfs', 'none', dir]);
        if (step === 'u') execFileSync('umount', [dir]);
        if (step === 'S') {
          const child = spawn('sh', ['-c', 'sleep 0.2 && exec mount -t tmpfs none "$0"', dir], { stdio: 'inherit' });
          report(sel.select(5000));
          const [status] = await once(child, 'exit');
          if (status !== 0) throw new Error('mount failed: ' + status);
        }
        mounted += step === 'u' ? -1 : step === 's' ? 0 : 1;
      }
      sel.close();
      closeSync(fd);
      for (; mounted > 0; mounted--) execFileSync('umount', [dir]);
      seenByCase[caseName] = seen;
    }
    console.log(JSON.stringify(seenByCase));
  `;
  const r = spawnSync('unshare', [...UNSHARE, process.execPath, '--input-type=module', '-e', code], {
    encoding: 'utf8',
    env: { ...process.env, MOUNTINFO_CASES: JSON.stringify({ name, cases: CASES, dir: mountPoint }) },
    timeout: 60_000,
  });
  if (r.status !== 0) throw new Error(`child exited with ${r.status ?? r.signal}:\n${r.stderr}`);
  const seen = JSON.parse(r.stdout) as Record<string, number[]>;
  seenOn.set(name, seen);
  return seen;
}

describe.each(BACKENDS.filter((b) => !noPriority(b.backend)))('$name, /proc/self/mountinfo', ({ name, backend }) => {
  it('level, READ | PRIORITY: each change is reported with READ by the first select after it, then READ alone, as epoll reports', (ctx) => {
    const reason = mountingNotPermitted();
    if (reason !== null) return ctx.skip(reason);
    expect(mountinfoSeen(name)['levelReadPriority']).toEqual([R, R, R | P, R, R | P, R]);
  });

  it('level, PRIORITY alone: a change that comes between selects is reported once', (ctx) => {
    const reason = mountingNotPermitted();
    if (reason !== null) return ctx.skip(reason);
    expect(mountinfoSeen(name)['levelPriority']).toEqual([0, P, 0, P, 0]);
  });

  it('level, PRIORITY alone: a change during a blocking select ends it with PRIORITY', (ctx) => {
    const reason = mountingNotPermitted();
    if (reason !== null) return ctx.skip(reason);
    expect(mountinfoSeen(name)['levelPriorityBlocking']).toEqual([0, P, 0]);
  });

  it.runIf(backendHas(backend, 'edge'))('edge, READ | PRIORITY: reported once when registered, then once per change', (ctx) => {
    const reason = mountingNotPermitted();
    if (reason !== null) return ctx.skip(reason);
    expect(mountinfoSeen(name)['edgeReadPriority']).toEqual([R, 0, R | P, 0, R | P, 0]);
  });

  it.runIf(backendHas(backend, 'oneshot'))('oneshot, PRIORITY alone: the first change is reported, and nothing after it', (ctx) => {
    const reason = mountingNotPermitted();
    if (reason !== null) return ctx.skip(reason);
    expect(mountinfoSeen(name)['oneshotPriority']).toEqual([0, P, 0, 0]);
  });
});
