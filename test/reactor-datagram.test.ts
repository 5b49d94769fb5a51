// Datagram endpoints (openDatagram) on every backend, under run() and under
// attach(): UDP echo over 127.0.0.1 and ::1, Unix datagram sockets bound to
// paths (the file removed on close) and unbound (sender null), a real peer
// (python3), the send queue against a Unix receiver nobody reads (every
// queued datagram arrives, in order, connected or not), its bound, connect
// mode and an ICMP error reported without closing, truncation reported
// instead of delivered, close() and abort() during a flush, the reactor's
// close, and bad input (coded errors, no fd left open).
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DatagramEndpoint, Deferred, EVENT_READ, type Future, openDatagram, Reactor, ReactorCore, sys } from '../lib/index.js';
import { BACKENDS, enc, fdsChangedSince, kqueueLimit, noIpv6Loopback, openFds, reactorWithFds, thrown, track } from './helpers.js';

type Mode = 'run' | 'attach';
const MODES: Mode[] = ['run', 'attach'];

const dir = mkdtempSync(join(tmpdir(), 'reactor-dgram-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let paths = 0;
const unixPath = () => join(dir, `e${paths++}`);
const dec = (b: Uint8Array) => new TextDecoder().decode(b);
const code = (err: unknown) => (err as { code?: string }).code;
const portOf = (e: DatagramEndpoint) => (e.address() as sys.InetAddress).port;


/** A UDP port nobody listens on (bound, then closed). */
function closedUdpPort(): number {
  const fd = sys.socket(sys.AF_INET, sys.SOCK_DGRAM);
  sys.bind(fd, '127.0.0.1', 0);
  const port = (sys.getsockname(fd) as sys.InetAddress).port;
  sys.close(fd);
  return port;
}

/** Drives `r` until `done` settles (or 10 s pass: then `done` fails), by
 * run() or by attach() and an await; the reactor is stopped (detached) after. */
function drive(r: Reactor, mode: Mode, done: Deferred<void>, ms = 10_000): Promise<void> {
  if (done.done) return Promise.resolve().then(() => done.result());
  return new Promise<void>((resolve) => {
    const guard = r.callLater(ms, () => done.reject(new Error(`not done within ${ms} ms`)));
    done.addDoneCallback(() => {
      guard.cancel();
      r.stop();
      resolve();
    });
    if (mode === 'run') r.run();
    else r.attach();
  }).then(() => {
    done.result(); // throws what failed it
  });
}

/** A Unix datagram socket (plain sys) bound at a fresh path, which nobody reads until the test says. */
function unixReceiver(): [number, string] {
  const fd = sys.socket(sys.AF_UNIX, sys.SOCK_DGRAM);
  const path = unixPath();
  sys.bind(fd, path);
  return [fd, path];
}

describe.each(BACKENDS)('datagram endpoints on $name', ({ backend, create }) => {
  // libkqueue refuses (EAGAIN) the write filter of a Unix datagram socket whose
  // receiver is full, the moment the send queue starts watching writability, so
  // the queue cannot be judged there (R6); and it takes a socket's pending error
  // (SO_ERROR) inside kevent(), so an ICMP error never reaches recv (R4).
  const writeFilterEagain = kqueueLimit(backend, 'kqueueWriteFilterEagain');
  const eatsSoError = kqueueLimit(backend, 'kqueueEatsSoError');
  describe.each(MODES)('under %s()', (mode) => {
    function reactor(): Reactor {
      return new Reactor({ selector: track(create()) });
    }

    it('UDP over 127.0.0.1: an echo between two endpoints, with the sender address, copies of the bytes, boundaries kept', async () => {
      const [r, before] = reactorWithFds(create);
      const done = new Deferred<void>();
      const server = openDatagram(r, { port: 0 }, (data, from) => {
        if (from !== null && 'port' in from) server.send(data, from.address, from.port);
      });
      const got: Array<[string, unknown]> = [];
      const views: Uint8Array[] = [];
      const client = r.openDatagram({ host: '127.0.0.1', port: 0 }, (data, from) => {
        got.push([dec(data), from]);
        views.push(data);
        if (got.length === 3) done.resolve();
      });
      expect(client.address()).toEqual({ family: sys.AF_INET, address: '127.0.0.1', port: portOf(client) });
      expect(client.send('one', '127.0.0.1', portOf(server))).toBe(true);
      expect(client.send(enc('two, longer'), '127.0.0.1', portOf(server))).toBe(true);
      expect(client.send(new Uint8Array(0), '127.0.0.1', portOf(server))).toBe(true);
      await drive(r, mode, done);
      const serverAddress = { family: sys.AF_INET, address: '127.0.0.1', port: portOf(server) };
      expect(got).toEqual([
        ['one', serverAddress],
        ['two, longer', serverAddress],
        ['', serverAddress],
      ]);
      // Each datagram its own copy, never a view of a reused buffer.
      for (const v of views) expect([v.byteOffset, v.buffer.byteLength]).toEqual([0, v.length]);
      server.close();
      client.close();
      expect(client.closed).toBe(true);
      expect(code(thrown(() => client.send('x', '127.0.0.1', 9)))).toBe('ERR_DATAGRAM_CLOSED');
      expect(code(thrown(() => client.address()))).toBe('ERR_DATAGRAM_CLOSED');
      r.close();
      expect(await fdsChangedSince(before)).toEqual([]);
    });

    it('UDP over ::1 (needs an IPv6 loopback)', async (ctx) => {
      const reason = noIpv6Loopback();
      if (reason !== null) return ctx.skip(reason);
      const r = reactor();
      const done = new Deferred<void>();
      const server = openDatagram(r, { host: '::1', port: 0 }, (data, from) => {
        if (from !== null && 'port' in from) server.send(data, from.address, from.port);
      });
      let reply: [string, unknown] | null = null;
      // Unbound: the kernel picks the port at the first send.
      const client = openDatagram(r, { family: 6 }, (data, from) => {
        reply = [dec(data), from];
        done.resolve();
      });
      client.send('over six', '::1', portOf(server));
      await drive(r, mode, done);
      expect(reply).toEqual(['over six', { family: sys.AF_INET6, address: '::1', port: portOf(server) }]);
      expect(code(thrown(() => client.send('x', '127.0.0.1', 9)))).toBe('ERR_INVALID_ARG_VALUE');
      r.close();
      expect([server.closed, client.closed]).toEqual([true, true]);
    });

    it('Unix datagram sockets: bound to paths with the sender path, an unbound client seen as null; the files removed on close', async () => {
      const [r, before] = reactorWithFds(create);
      const done = new Deferred<void>();
      const serverPath = unixPath();
      const seen: Array<[string, unknown]> = [];
      const server = openDatagram(r, { path: serverPath }, (data, from) => {
        seen.push([dec(data), from]);
        if (from !== null && 'path' in from) server.send(`re: ${dec(data)}`, from.path);
      });
      expect(server.address()).toEqual({ family: sys.AF_UNIX, path: serverPath });
      const clientPath = unixPath();
      const replies: Array<[string, unknown]> = [];
      const named = openDatagram(r, { path: clientPath }, (data, from) => {
        replies.push([dec(data), from]);
        done.resolve();
      });
      const anonymous = openDatagram(r, { family: 'unix' }, () => {});
      expect(anonymous.address()).toEqual({ family: sys.AF_UNIX, path: '' });
      anonymous.send('who am I?', serverPath);
      named.send('hello', serverPath);
      await drive(r, mode, done);
      expect(seen).toEqual([
        ['who am I?', null],
        ['hello', { family: sys.AF_UNIX, path: clientPath }],
      ]);
      expect(replies).toEqual([['re: hello', { family: sys.AF_UNIX, path: serverPath }]]);
      expect([existsSync(serverPath), existsSync(clientPath)]).toEqual([true, true]);
      server.close();
      named.close();
      anonymous.close();
      expect([existsSync(serverPath), existsSync(clientPath)]).toEqual([false, false]);
      // A send to a path where nobody is: thrown at once.
      const lone = openDatagram(r, { family: 'unix' }, () => {});
      expect(code(thrown(() => lone.send('x', serverPath)))).toMatch(/^(ENOENT|ECONNREFUSED)$/);
      lone.close();
      r.close();
      expect(await fdsChangedSince(before)).toEqual([]);
    });

    it('a real peer: python3 sends to the endpoint, reads its reply and sends back what it read', async () => {
      const r = reactor();
      const done = new Deferred<void>();
      const heard: string[] = [];
      const endpoint = openDatagram(r, { port: 0 }, (data, from) => {
        const text = dec(data);
        heard.push(text);
        if (text === 'ping' && from !== null && 'port' in from) endpoint.send('pong', from.address, from.port);
        else done.resolve();
      });
      const py = [
        'import socket, sys',
        's = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)',
        's.settimeout(10)',
        'to = ("127.0.0.1", int(sys.argv[1]))',
        's.sendto(b"ping", to)',
        'data, _ = s.recvfrom(100)',
        's.sendto(b"python got " + data, to)',
      ].join('\n');
      const env = { ...process.env };
      delete env['LD_PRELOAD']; // the ASan runtime, under scripts/asan.sh
      const child = spawn('python3', ['-c', py, String(portOf(endpoint))], { stdio: 'ignore', env });
      const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
      await drive(r, mode, done, 20_000);
      expect(heard).toEqual(['ping', 'python got pong']);
      expect(await exited).toBe(0);
      r.close();
    });

    for (const connected of [true, false]) {
      it.skipIf(writeFilterEagain)(`the send queue (${connected ? 'connected' : 'to a path'}): a receiver nobody reads fills, sends queue, and once it drains every datagram arrives in order`, async () => {
        const [r, before] = reactorWithFds(create);
        const [receiver, path] = unixReceiver();
        const done = new Deferred<void>();
        const sender = openDatagram(r, connected ? { connect: { path } } : { family: 'unix' }, () => {});
        const total = 300;
        let accepted = 0;
        for (let i = 0; i < total; i++) {
          const sentNow = connected ? sender.send(`d${i}`) : sender.send(`d${i}`, path);
          if (sentNow) accepted++;
        }
        expect(accepted).toBeGreaterThan(0);
        expect(accepted).toBeLessThan(total); // the receiver filled up: the rest is queued
        expect(sender.writeQueueLength).toBe(total - accepted);
        expect(sender.writeQueueSize).toBeGreaterThan(0);
        const drained = sender.drain();
        let drainedWhenAllArrived = false;
        const got: string[] = [];
        // Count the selector's waits while nobody reads: a writable event
        // that sends nothing (Linux says an unconnected Unix socket is
        // writable while its destination is full) must not make it spin.
        const selector = r.selector;
        const selectRaw = selector.selectRaw.bind(selector);
        let waits = 0;
        selector.selectRaw = (timeout) => (waits++, selectRaw(timeout));
        // Nobody reads for a while: the queue waits, nothing is lost.
        r.callLater(30, () => {
          expect(waits).toBeLessThan(50);
          expect(sender.writeQueueLength).toBe(total - accepted);
          const buf = new Uint8Array(64);
          r.addHandler(receiver, () => {
            for (let d = sys.recvfrom(receiver, buf); d !== null; d = sys.recvfrom(receiver, buf)) got.push(dec(buf.subarray(0, d.bytes)));
            if (got.length === total) {
              drainedWhenAllArrived = drained.done;
              r.removeHandler(receiver);
              done.resolve();
            }
          }, EVENT_READ);
        });
        await drive(r, mode, done);
        expect(got).toEqual(Array.from({ length: total }, (_, i) => `d${i}`));
        expect(drainedWhenAllArrived || drained.done).toBe(true);
        expect(drained.fulfilled).toBe(true);
        expect([sender.writeQueueLength, sender.writeQueueSize]).toEqual([0, 0]);
        sender.close();
        sys.close(receiver);
        r.close();
        expect(await fdsChangedSince(before)).toEqual([]);
      });
    }

    it.skipIf(writeFilterEagain)('the queue is bounded: past maxQueuedBytes send() throws ERR_DATAGRAM_QUEUE_FULL and queues nothing; what it took arrives', async () => {
      const r = reactor();
      const [receiver, path] = unixReceiver();
      const done = new Deferred<void>();
      const sender = openDatagram(r, { connect: { path }, maxQueuedBytes: 100 }, () => {});
      const datagram = new Uint8Array(10);
      let taken = 0;
      let refused: unknown;
      for (let i = 0; i < 1000 && refused === undefined; i++) {
        datagram[0] = i & 0xff;
        try {
          sender.send(datagram);
          taken++;
        } catch (err) {
          refused = err;
        }
      }
      expect(refused).toMatchObject({ code: 'ERR_DATAGRAM_QUEUE_FULL' });
      expect(refused).toBeInstanceOf(Error);
      expect(sender.writeQueueSize).toBe(100);
      expect(sender.writeQueueLength).toBe(10);
      // Bigger than the whole bound: refused even with room for others.
      expect(code(thrown(() => sender.send(new Uint8Array(101))))).toBe('ERR_DATAGRAM_QUEUE_FULL');
      const firsts: number[] = [];
      const buf = new Uint8Array(64);
      r.addHandler(receiver, () => {
        for (let d = sys.recvfrom(receiver, buf); d !== null; d = sys.recvfrom(receiver, buf)) firsts.push(buf[0]!);
        if (firsts.length === taken) done.resolve();
      }, EVENT_READ);
      await drive(r, mode, done);
      expect(firsts).toEqual(Array.from({ length: taken }, (_, i) => i & 0xff));
      r.removeHandler(receiver);
      sys.close(receiver);
      r.close();
    });

    it.skipIf(eatsSoError)('connect mode and an ICMP error: ECONNREFUSED from a closed port is reported, the endpoint stays open and works', async () => {
      const r = reactor();
      const port = closedUdpPort();
      const errors: unknown[] = [];
      const refused = new Deferred<void>();
      const replies: Array<[string, unknown]> = [];
      const done = new Deferred<void>();
      const client = openDatagram(r, { connect: { host: '127.0.0.1', port }, onError: (err) => {
        errors.push(err);
        refused.resolve();
      } }, (data, from) => {
        replies.push([dec(data), from]);
        done.resolve();
      });
      expect(client.connected).toBe(true);
      expect(code(thrown(() => client.send('x', '127.0.0.1', port)))).toBe('ERR_INVALID_ARG_VALUE');
      client.send('anyone?');
      await drive(r, mode, refused);
      expect(errors).toHaveLength(1);
      expect(errors[0]).toMatchObject({ code: 'ECONNREFUSED' });
      expect(client.closed).toBe(false);
      // Someone listens there now: the same endpoint reaches it and hears back.
      const server = openDatagram(r, { port }, (data, from) => {
        if (from !== null && 'port' in from) server.send(`echo ${dec(data)}`, from.address, from.port);
      });
      client.send('now?');
      await drive(r, mode, done);
      expect(replies).toEqual([['echo now?', { family: sys.AF_INET, address: '127.0.0.1', port }]]);
      expect(errors).toHaveLength(1);
      r.close();
    });

    it('an ICMP error that surfaces on the next send() instead is reported, and that datagram is sent all the same', async () => {
      const r = reactor();
      const port = closedUdpPort();
      const errors: unknown[] = [];
      const client = openDatagram(r, { connect: { host: '127.0.0.1', port }, onError: (err) => errors.push(err) }, () => {});
      expect(client.send('first')).toBe(true);
      // The reactor does not run: the ICMP error waits on the socket (loopback answers at once; give it a moment).
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 50);
      const got: string[] = [];
      const done = new Deferred<void>();
      const server = openDatagram(r, { port }, (data) => {
        got.push(dec(data));
        done.resolve();
      });
      expect(client.send('second')).toBe(true);
      expect(errors).toEqual([expect.objectContaining({ code: 'ECONNREFUSED' })]);
      await drive(r, mode, done);
      expect(got).toEqual(['second']);
      server.close();
      r.close();
    });

    it('a datagram longer than maxMessageSize is reported (ERR_DATAGRAM_TRUNCATED, its head in partial), not delivered; the next one is', async () => {
      const r = reactor();
      const done = new Deferred<void>();
      const errors: unknown[] = [];
      const got: string[] = [];
      const receiver = openDatagram(r, { port: 0, maxMessageSize: 100, onError: (err) => errors.push(err) }, (data) => {
        got.push(dec(data));
        done.resolve();
      });
      const sender = openDatagram(r, { port: 0 }, () => {});
      const long = new Uint8Array(300).map((_, i) => i & 0xff);
      sender.send(long, '127.0.0.1', portOf(receiver));
      sender.send('a'.repeat(100), '127.0.0.1', portOf(receiver)); // exactly the limit: whole
      await drive(r, mode, done);
      expect(got).toEqual(['a'.repeat(100)]);
      expect(errors).toHaveLength(1);
      expect(errors[0]).toMatchObject({
        code: 'ERR_DATAGRAM_TRUNCATED',
        limit: 100,
        sender: { family: sys.AF_INET, address: '127.0.0.1', port: portOf(sender) },
      });
      expect((errors[0] as { partial: Uint8Array }).partial).toEqual(long.subarray(0, 100));
      r.close();
    });

    it.skipIf(writeFilterEagain)('close() during a flush stops receiving at once, sends every queued datagram, then closes the fd and removes its file', async () => {
      const [r, before] = reactorWithFds(create);
      const [receiver, path] = unixReceiver();
      const done = new Deferred<void>();
      const ownPath = unixPath();
      const heard: string[] = [];
      const sender = openDatagram(r, { path: ownPath }, (data) => heard.push(dec(data)));
      let queued = 0;
      for (let i = 0; i < 50; i++) if (!sender.send(`q${i}`, path)) queued++;
      expect(queued).toBeGreaterThan(0);
      sender.close();
      sender.close(); // idempotent
      expect(sender.closed).toBe(false); // not yet: datagrams are queued
      expect(code(thrown(() => sender.send('late', path)))).toBe('ERR_DATAGRAM_CLOSED');
      // It no longer receives.
      const other = sys.socket(sys.AF_UNIX, sys.SOCK_DGRAM);
      sys.sendto(other, enc('to a closing endpoint'), ownPath);
      sys.close(other);
      const got: string[] = [];
      const buf = new Uint8Array(64);
      r.callLater(20, () => {
        r.addHandler(receiver, () => {
          for (let d = sys.recvfrom(receiver, buf); d !== null; d = sys.recvfrom(receiver, buf)) got.push(dec(buf.subarray(0, d.bytes)));
          if (got.length === 50) {
            r.removeHandler(receiver);
            done.resolve();
          }
        }, EVENT_READ);
      });
      await drive(r, mode, done);
      expect(got).toEqual(Array.from({ length: 50 }, (_, i) => `q${i}`));
      // The flush that sent the last datagram closed it.
      expect(sender.closed).toBe(true);
      expect(existsSync(ownPath)).toBe(false);
      expect(heard).toEqual([]);
      sys.close(receiver);
      r.close();
      expect(await fdsChangedSince(before)).toEqual([]);
    });

    it.skipIf(writeFilterEagain)('abort() during a flush drops the queue at once, says how many, and fails a waiting drain()', async () => {
      const [r, before] = reactorWithFds(create);
      const [receiver, path] = unixReceiver();
      const sender = openDatagram(r, { connect: { path } }, () => {});
      let queued = 0;
      for (let i = 0; i < 40; i++) if (!sender.send(`a${i}`)) queued++;
      const drained: Future<void> = sender.drain();
      expect(drained.done).toBe(false);
      expect(sender.abort()).toBe(queued);
      expect(sender.closed).toBe(true);
      expect(sender.abort()).toBe(0);
      expect(drained.exception).toMatchObject({ code: 'ERR_DATAGRAM_CLOSED' });
      sys.close(receiver);
      // The reactor's close aborts an endpoint still open, and says what it dropped.
      const [receiver2, path2] = unixReceiver();
      const errors: unknown[] = [];
      const left = openDatagram(r, { connect: { path: path2 }, onError: (err) => errors.push(err) }, () => {});
      while (left.send('x')) {
        /* until the receiver is full */
      }
      left.send('queued');
      r.close();
      expect(left.closed).toBe(true);
      expect(errors).toEqual([expect.objectContaining({ code: 'ERR_DATAGRAM_CLOSED' })]);
      sys.close(receiver2);
      expect(await fdsChangedSince(before)).toEqual([]);
      if (mode === 'attach') return; // the rest does not depend on the mode
      // A queued datagram the kernel refuses later (its receiver gone) is reported with its destination, not lost silently.
      const r2 = reactor();
      const [full, fullPath] = unixReceiver();
      const flushErrors: unknown[] = [];
      const done = new Deferred<void>();
      const s = openDatagram(r2, { family: 'unix', onError: (err) => {
        flushErrors.push(err);
        done.resolve();
      } }, () => {});
      while (s.send('x', fullPath)) {
        /* fill */
      }
      s.send('doomed', fullPath);
      sys.close(full);
      rmSync(fullPath);
      await drive(r2, mode, done);
      expect(flushErrors[0]).toMatchObject({ code: expect.stringMatching(/^(ENOENT|ECONNREFUSED)$/), address: fullPath });
      expect(s.writeQueueLength).toBe(0);
      r2.close();
    });

    it('an onMessage that throws is reported and the next datagram still comes', async () => {
      const r = reactor();
      const done = new Deferred<void>();
      const reported: unknown[] = [];
      r.on('error', (err) => reported.push(err));
      const got: string[] = [];
      const e = openDatagram(r, { port: 0 }, (data) => {
        got.push(dec(data));
        if (got.length === 1) throw new Error('boom');
        done.resolve();
      });
      e.send('first', '127.0.0.1', portOf(e));
      e.send('second', '127.0.0.1', portOf(e));
      await drive(r, mode, done);
      expect(got).toEqual(['first', 'second']);
      expect(reported).toEqual([expect.objectContaining({ message: 'boom' })]);
      r.close();
    });
  });
});

describe('openDatagram', () => {
  it('runs on a bare ReactorCore, and is what reactor.openDatagram calls', () => {
    const loop = new ReactorCore();
    const got: string[] = [];
    const a = openDatagram(loop, { port: 0 }, (data) => {
      got.push(dec(data));
      a.close();
    });
    expect(a).toBeInstanceOf(DatagramEndpoint);
    a.send('bare', '127.0.0.1', portOf(a));
    loop.run(); // returns once the endpoint is closed
    expect(got).toEqual(['bare']);
    loop.close();
    const r = new Reactor();
    const b = r.openDatagram({ family: 'unix' }, () => {});
    expect(b).toBeInstanceOf(DatagramEndpoint);
    expect(b.address()).toEqual({ family: sys.AF_UNIX, path: '' });
    // Many endpoints, one 'close' listener on the reactor: they all close with it.
    const many = Array.from({ length: 20 }, () => r.openDatagram({ port: 0 }, () => {}));
    expect(r.listenerCount('close')).toBe(1);
    many[0]!.close();
    r.close();
    expect([b, ...many].every((e) => e.closed)).toBe(true);
  });

  it('refuses bad input with coded errors, opening nothing and leaving no file', async () => {
    const before = openFds();
    const r = new Reactor();
    const taken = unixPath();
    const squatter = sys.socket(sys.AF_UNIX, sys.SOCK_DGRAM);
    sys.bind(squatter, taken);
    const noop = () => {};
    const cases: Array<[() => unknown, string]> = [
      [() => openDatagram({} as ReactorCore, {}, () => {}), 'ERR_INVALID_ARG_TYPE'],
      [() => openDatagram(r, {}, 'no' as never), 'ERR_INVALID_ARG_TYPE'],
      [() => openDatagram(r, null as never, noop), 'ERR_INVALID_ARG_TYPE'],
      [() => openDatagram(r, { onError: 1 as never }, noop), 'ERR_INVALID_ARG_TYPE'],
      [() => openDatagram(r, { reuseAddr: 'yes' as never }, noop), 'ERR_INVALID_ARG_TYPE'],
      [() => openDatagram(r, { maxMessageSize: 0 }, noop), 'ERR_OUT_OF_RANGE'],
      [() => openDatagram(r, { maxQueuedBytes: 1.5 }, noop), 'ERR_OUT_OF_RANGE'],
      [() => openDatagram(r, { host: 'localhost', port: 0 }, noop), 'ERR_INVALID_IP_ADDRESS'],
      [() => openDatagram(r, { port: 70000 }, noop), 'ERR_SOCKET_BAD_PORT'],
      [() => openDatagram(r, { path: unixPath(), port: 1 }, noop), 'ERR_INVALID_ARG_VALUE'],
      [() => openDatagram(r, { family: 6, host: '127.0.0.1', port: 0 }, noop), 'ERR_INVALID_ARG_VALUE'],
      [() => openDatagram(r, { family: 5 as never }, noop), 'ERR_INVALID_ARG_VALUE'],
      [() => openDatagram(r, { path: unixPath(), connect: { host: '127.0.0.1', port: 9 } }, noop), 'ERR_INVALID_ARG_VALUE'],
      [() => openDatagram(r, { connect: 'x' as never }, noop), 'ERR_INVALID_ARG_TYPE'],
      [() => openDatagram(r, { path: '' }, noop), 'ERR_INVALID_ARG_VALUE'],
      [() => openDatagram(r, { path: taken }, noop), 'EADDRINUSE'],
      [() => openDatagram(r, { path: unixPath(), connect: { path: join(dir, 'nobody') } }, noop), 'ENOENT'],
    ];
    for (const [call, expected] of cases) expect([code(thrown(call)), expected]).toEqual([expected, expected]);
    expect(existsSync(taken)).toBe(true); // a file it did not bind is never removed
    const e = openDatagram(r, { port: 0 }, noop);
    const sendCases: Array<[() => unknown, string]> = [
      [() => e.send(42 as never, '127.0.0.1', 9), 'ERR_INVALID_ARG_TYPE'],
      [() => e.send('x'), 'ERR_INVALID_ARG_TYPE'],
      [() => e.send('x', '127.0.0.1'), 'ERR_INVALID_ARG_TYPE'],
      [() => e.send('x', 'example.com', 9), 'ERR_INVALID_IP_ADDRESS'],
      [() => e.send('x', '127.0.0.1', -1), 'ERR_SOCKET_BAD_PORT'],
      [() => e.send('x', '::1', 9), 'ERR_INVALID_ARG_VALUE'],
      [() => e.send(new Uint8Array(70_000), '127.0.0.1', 9), 'EMSGSIZE'],
    ];
    for (const [call, expected] of sendCases) expect([code(thrown(call)), expected]).toEqual([expected, expected]);
    expect(e.writeQueueLength).toBe(0);
    const u = openDatagram(r, { family: 'unix' }, noop);
    expect(code(thrown(() => u.send('x', taken, 9)))).toBe('ERR_INVALID_ARG_VALUE');
    e.close();
    u.close();
    sys.close(squatter);
    r.close();
    expect(code(thrown(() => openDatagram(r, { port: 0 }, noop)))).toBe('ERR_REACTOR_CLOSED');
    expect(await fdsChangedSince(before)).toEqual([]);
  });
});
