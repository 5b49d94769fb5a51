// Datagrams through `sys`: sendto/recvfrom over UDP (127.0.0.1, ::1) and Unix
// datagram sockets, with real peers (python3, socat, logger), truncation,
// would-block both ways, multicast membership and the datagram options,
// socketpair of each type, bad input refused before any syscall, and
// datagram sockets driven by every backend.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { EVENT_READ, EVENT_WRITE, sys, type SystemError } from '../lib/index.js';
import { BACKENDS, enc, fdsChangedSince, noIpv6Loopback, openFds, owned, release, thrown, track } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'sys-dgram-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let paths = 0;
const unixPath = () => join(dir, `d${paths++}`);
const text = (buf: Uint8Array, n: number) => new TextDecoder().decode(buf.subarray(0, n));


/** A UDP socket bound to `host` port 0, and its port. */
function udp(family: number, host: string): [number, number] {
  const fd = owned(sys.socket(family, sys.SOCK_DGRAM));
  sys.bind(fd, host, 0);
  return [fd, (sys.getsockname(fd) as sys.InetAddress).port];
}

/** A Unix datagram socket bound at a fresh path. */
function unixDgram(): [number, string] {
  const fd = owned(sys.socket(sys.AF_UNIX, sys.SOCK_DGRAM));
  const path = unixPath();
  sys.bind(fd, path);
  return [fd, path];
}

/** recvfrom until a datagram arrives (loopback delivery is immediate, but a
 * peer process sends when it gets round to it), failing after 5 s. */
async function receive(fd: number, buf: Uint8Array): Promise<sys.Datagram> {
  const deadline = Date.now() + 5000;
  for (;;) {
    const got = sys.recvfrom(fd, buf);
    if (got !== null) return got;
    if (Date.now() > deadline) throw new Error('no datagram arrived');
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** The environment of peer programs: ours without LD_PRELOAD, which under
 * ASan (scripts/asan.sh) preloads the sanitizer runtime, and which
 * deadlocks some programs not built for it (logger). */
const PEER_ENV: NodeJS.ProcessEnv = { ...process.env };
delete PEER_ENV['LD_PRELOAD'];

/** Runs a program until it exits; resolves with its stdout, after `ready`
 * (the first line it prints) has been handed to `onReady`. */
function runPeer(cmd: string, args: string[], onReady: (line: string) => void): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], env: PEER_ENV });
    let out = '';
    let err = '';
    let ready = false;
    const timer = setTimeout(() => child.kill(), 10_000);
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (!ready && out.includes('\n')) {
        ready = true;
        onReady(out.slice(0, out.indexOf('\n')));
      }
    });
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', reject);
    child.on('exit', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve(out);
      else reject(new Error(`${cmd} exited with ${code}: ${err}`));
    });
  });
}

describe('sendto and recvfrom', () => {
  it('carry datagrams over 127.0.0.1 with the sender address, boundaries kept', () => {
    const [a, portA] = udp(sys.AF_INET, '127.0.0.1');
    const [b, portB] = udp(sys.AF_INET, '127.0.0.1');
    expect(sys.sendto(b, enc('first'), '127.0.0.1', portA)).toBe(5);
    expect(sys.sendto(b, enc('second!'), '127.0.0.1', portA)).toBe(7);
    expect(sys.sendto(b, new Uint8Array(0), '127.0.0.1', portA)).toBe(0);
    const buf = new Uint8Array(100);
    const one = sys.recvfrom(a, buf)!;
    expect(one).toEqual({ bytes: 5, address: { family: sys.AF_INET, address: '127.0.0.1', port: portB }, truncated: false });
    expect(text(buf, one.bytes)).toBe('first');
    const two = sys.recvfrom(a, buf)!;
    expect(text(buf, two.bytes)).toBe('second!');
    // The same sender twice: the same frozen address object, not a new one.
    expect(two.address).toBe(one.address);
    expect(Object.isFrozen(two.address)).toBe(true);
    // An empty datagram is a datagram (bytes 0), then nothing is left.
    expect(sys.recvfrom(a, buf)).toMatchObject({ bytes: 0, truncated: false, address: { port: portB } });
    expect(sys.recvfrom(a, buf)).toBeNull();
    // Another sender gets its own address.
    const [c, portC] = udp(sys.AF_INET, '127.0.0.1');
    sys.sendto(c, enc('x'), '127.0.0.1', portA);
    expect(sys.recvfrom(a, buf)!.address).toEqual({ family: sys.AF_INET, address: '127.0.0.1', port: portC });
  });

  it('carry datagrams over ::1', (ctx) => {
    const reason = noIpv6Loopback();
    if (reason !== null) return ctx.skip(reason);
    const [a, portA] = udp(sys.AF_INET6, '::1');
    const [b, portB] = udp(sys.AF_INET6, '::1');
    expect(sys.sendto(b, enc('over six'), '::1', portA)).toBe(8);
    const buf = new Uint8Array(64);
    const got = sys.recvfrom(a, buf)!;
    expect(got).toEqual({ bytes: 8, address: { family: sys.AF_INET6, address: '::1', port: portB }, truncated: false });
    expect(text(buf, got.bytes)).toBe('over six');
  });

  it('cut a datagram longer than the buffer and say so; the rest is lost', () => {
    const [a, portA] = udp(sys.AF_INET, '127.0.0.1');
    const [b] = udp(sys.AF_INET, '127.0.0.1');
    const long = new Uint8Array(4000).map((_, i) => i & 0xff);
    expect(sys.sendto(b, long, '127.0.0.1', portA)).toBe(4000);
    sys.sendto(b, enc('next'), '127.0.0.1', portA);
    const small = new Uint8Array(1000);
    const got = sys.recvfrom(a, small)!;
    expect(got.bytes).toBe(1000);
    expect(got.truncated).toBe(true);
    expect(small).toEqual(long.subarray(0, 1000));
    const next = sys.recvfrom(a, small)!;
    expect([text(small, next.bytes), next.truncated]).toEqual(['next', false]);
  });

  it('carry datagrams between Unix sockets bound to paths, with the sender path; an unnamed sender is null', () => {
    const [a, pathA] = unixDgram();
    const [b, pathB] = unixDgram();
    expect(sys.sendto(b, enc('to a'), pathA)).toBe(4);
    const buf = new Uint8Array(64);
    const got = sys.recvfrom(a, buf)!;
    expect(got).toEqual({ bytes: 4, address: { family: sys.AF_UNIX, path: pathB }, truncated: false });
    // An unbound sender has no name: nowhere to reply to.
    const anon = owned(sys.socket(sys.AF_UNIX, sys.SOCK_DGRAM));
    expect(sys.sendto(anon, enc('who?'), pathA)).toBe(4);
    expect(sys.recvfrom(a, buf)).toEqual({ bytes: 4, address: null, truncated: false });
    // ... and a named one after it is named again (the cached address is not reused).
    sys.sendto(b, enc('me'), pathA);
    expect(sys.recvfrom(a, buf)!.address).toEqual({ family: sys.AF_UNIX, path: pathB });
  });

  it('return -1 when a Unix receiver is full, and null when nothing is queued', () => {
    const [a, b] = sys.socketpair(sys.SOCK_DGRAM).map(owned) as [number, number];
    const buf = new Uint8Array(16);
    expect(sys.recvfrom(b, buf)).toBeNull();
    const path = unixPath();
    const r = owned(sys.socket(sys.AF_UNIX, sys.SOCK_DGRAM));
    sys.bind(r, path);
    const s = owned(sys.socket(sys.AF_UNIX, sys.SOCK_DGRAM));
    let sent = 0;
    for (let n = sys.sendto(s, buf, path); n !== -1; n = sys.sendto(s, buf, path)) {
      expect(n).toBe(16);
      if (++sent > 1_000_000) throw new Error('the receiver never filled up');
    }
    expect(sent).toBeGreaterThan(0);
    // Everything sent is there, in order of sending, and nothing more.
    let got = 0;
    while (sys.recvfrom(r, buf) !== null) got++;
    expect(got).toBe(sent);
    expect(sys.sendto(a, buf, path)).toBe(16); // room again (a connected socketpair end may still sendto a path)
  });

  it('report system errors: no socket at the path, a closed fd, a datagram too long', () => {
    const s = owned(sys.socket(sys.AF_UNIX, sys.SOCK_DGRAM));
    expect(thrown(() => sys.sendto(s, enc('x'), join(dir, 'nobody')))).toMatchObject({ code: 'ENOENT', syscall: 'sendto' });
    const [u] = udp(sys.AF_INET, '127.0.0.1');
    expect(thrown(() => sys.sendto(u, new Uint8Array(70_000), '127.0.0.1', 9))).toMatchObject({ code: 'EMSGSIZE', syscall: 'sendto' });
    const closed = sys.socket(sys.AF_INET, sys.SOCK_DGRAM);
    sys.close(closed);
    expect(thrown(() => sys.recvfrom(closed, new Uint8Array(1)))).toMatchObject({ code: 'EBADF', syscall: 'recvfrom' });
    expect(thrown(() => sys.sendto(closed, enc('x'), '127.0.0.1', 9))).toMatchObject({ code: 'EBADF' });
  });

  it('refuse bad input before any syscall: coded errors, nothing sent, no fd opened', async () => {
    const [a, portA] = udp(sys.AF_INET, '127.0.0.1');
    const [b] = udp(sys.AF_INET, '127.0.0.1');
    const before = openFds();
    const bad: Array<[() => unknown, string, string]> = [
      [() => sys.sendto(-1, enc('x'), '127.0.0.1', portA), 'ERR_INVALID_FD', 'RangeError'],
      [() => sys.sendto('3' as unknown as number, enc('x'), '127.0.0.1', portA), 'ERR_INVALID_FD', 'TypeError'],
      [() => sys.sendto(b, 'x' as unknown as Uint8Array, '127.0.0.1', portA), 'ERR_INVALID_ARG_TYPE', 'TypeError'],
      [() => sys.sendto(b, enc('x'), 'localhost', portA), 'ERR_INVALID_IP_ADDRESS', 'TypeError'],
      [() => sys.sendto(b, enc('x'), 7 as unknown as string, portA), 'ERR_INVALID_ARG_TYPE', 'TypeError'],
      [() => sys.sendto(b, enc('x'), '127.0.0.1', 65536), 'ERR_SOCKET_BAD_PORT', 'RangeError'],
      [() => sys.sendto(b, enc('x'), '127.0.0.1', 1.5), 'ERR_SOCKET_BAD_PORT', 'RangeError'],
      [() => sys.sendto(b, enc('x'), '127.0.0.1', '80' as unknown as number), 'ERR_INVALID_ARG_TYPE', 'TypeError'],
      [() => sys.sendto(b, enc('x'), ''), 'ERR_INVALID_ARG_VALUE', 'RangeError'],
      [() => sys.sendto(b, enc('x'), 'a'.repeat(sys.UNIX_PATH_MAX + 1)), 'ERR_INVALID_ARG_VALUE', 'RangeError'],
      [() => sys.sendto(b, enc('x'), 'a\0b'), 'ERR_INVALID_ARG_VALUE', 'RangeError'],
      [() => sys.recvfrom(-1, new Uint8Array(1)), 'ERR_INVALID_FD', 'RangeError'],
      [() => sys.recvfrom(a, [1, 2] as unknown as Uint8Array), 'ERR_INVALID_ARG_TYPE', 'TypeError'],
      [() => sys.recvfrom(a, new Uint16Array(2) as unknown as Uint8Array), 'ERR_INVALID_ARG_TYPE', 'TypeError'],
    ];
    for (const [call, code, name] of bad) {
      const err = thrown(call) as Error & { code?: string };
      expect(err, String(call)).toBeInstanceOf(Error);
      expect([err.code, err.name], String(call)).toEqual([code, name]);
    }
    expect(sys.recvfrom(a, new Uint8Array(8))).toBeNull(); // nothing was sent
    expect(await fdsChangedSince(before)).toEqual([]);
  });
});

describe('real peers', () => {
  it('python3 receives our Unix datagram, and sends one to our recvfrom from its own path', async () => {
    const theirs = unixPath();
    const py = [
      'import socket, sys',
      's = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)',
      `s.bind(${JSON.stringify(theirs)})`,
      'print("ready", flush=True)',
      's.settimeout(10)',
      'data, addr = s.recvfrom(100)',
      'print(repr(data.decode()), addr, flush=True)',
      's.sendto(b"reply from python", addr)',
    ].join('\n');
    const [ours, ourPath] = unixDgram();
    const out = await runPeer('python3', ['-c', py], () => {
      expect(sys.sendto(ours, enc('hello python'), theirs)).toBe(12);
    });
    expect(out.split('\n')[1]).toBe(`'hello python' ${ourPath}`);
    const buf = new Uint8Array(64);
    const got = await receive(ours, buf);
    expect(text(buf, got.bytes)).toBe('reply from python');
    expect(got.address).toEqual({ family: sys.AF_UNIX, path: theirs });
  });

  it('socat receives our Unix datagram', async () => {
    const theirs = unixPath();
    const [ours] = unixDgram();
    // socat prints what it received; -u: one way; it ends after the datagram (-T for safety).
    const child = spawn('socat', ['-u', '-T', '10', `UNIX-RECVFROM:${theirs}`, 'STDOUT'], { stdio: ['ignore', 'pipe', 'inherit'], env: PEER_ENV });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((r) => child.on('exit', r));
    const deadline = Date.now() + 5000;
    for (;;) {
      try {
        if (sys.sendto(ours, enc('hello socat'), theirs) === 11) break;
      } catch (err) {
        // Not bound yet.
        if (!['ENOENT', 'ECONNREFUSED'].includes((err as SystemError).code) || Date.now() > deadline) throw err;
      }
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(await exited).toBe(0);
    expect(out).toBe('hello socat');
  });

  it('an unbound python3 sender reaches our recvfrom with no address (null)', async () => {
    const [ours, ourPath] = unixDgram();
    const py = `import socket\ns = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)\ns.sendto(b"anonymous", ${JSON.stringify(ourPath)})`;
    expect(spawnSync('python3', ['-c', py], { env: PEER_ENV, timeout: 20_000 }).status).toBe(0);
    const buf = new Uint8Array(64);
    expect(sys.recvfrom(ours, buf)).toEqual({ bytes: 9, address: null, truncated: false });
    expect(text(buf, 9)).toBe('anonymous');
  });

  it('python3 sends UDP to our recvfrom and reads our sendto reply', async () => {
    const [ours, port] = udp(sys.AF_INET, '127.0.0.1');
    const py = [
      'import socket',
      's = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)',
      's.bind(("127.0.0.1", 0))',
      `s.sendto(b"ping", ("127.0.0.1", ${port}))`,
      's.settimeout(10)',
      'print(s.getsockname()[1], flush=True)',
      'print(s.recv(100).decode(), flush=True)',
    ].join('\n');
    const buf = new Uint8Array(16);
    const out = await runPeer('python3', ['-c', py], (line) => {
      const got = sys.recvfrom(ours, buf)!; // sent before the line was printed
      expect(got.address).toEqual({ family: sys.AF_INET, address: '127.0.0.1', port: Number(line) });
      expect(text(buf, got.bytes)).toBe('ping');
      expect(sys.sendto(ours, enc('pong'), '127.0.0.1', Number(line))).toBe(4);
    });
    expect(out.split('\n')[1]).toBe('pong');
  });

  it('logger (util-linux) writes a syslog datagram to our bound Unix socket', async () => {
    const [ours, path] = unixDgram();
    const r = spawnSync('logger', ['--socket', path, '-d', '--socket-errors=on', '-t', 'nstest', '-p', 'user.notice', 'hello from logger'], {
      encoding: 'utf8',
      env: PEER_ENV,
      timeout: 20_000,
    });
    expect(r.status, r.stderr).toBe(0);
    const buf = new Uint8Array(1024);
    const got = await receive(ours, buf);
    // <13>: facility user (1) * 8 + severity notice (5).
    expect(text(buf, got.bytes)).toMatch(/^<13>.*nstest.*: hello from logger$/);
    expect(got.truncated).toBe(false);
  });
});

describe('socketpair types', () => {
  it('SOCK_DGRAM keeps message boundaries and its sender has no name', () => {
    const [a, b] = sys.socketpair(sys.SOCK_DGRAM).map(owned) as [number, number];
    expect(sys.send(a, enc('one'))).toBe(3);
    expect(sys.send(a, enc('two!'))).toBe(4);
    const buf = new Uint8Array(64);
    expect(sys.recvfrom(b, buf)).toEqual({ bytes: 3, address: null, truncated: false });
    expect(sys.recvfrom(b, buf)).toEqual({ bytes: 4, address: null, truncated: false });
  });

  it('SOCK_SEQPACKET keeps boundaries and reads end of stream once the peer closes', (ctx) => {
    if (sys.SOCK_SEQPACKET === undefined) return ctx.skip('no SOCK_SEQPACKET on this platform');
    const [a, b] = sys.socketpair(sys.SOCK_SEQPACKET).map(owned) as [number, number];
    sys.send(a, enc('packet one'));
    sys.send(a, enc('two'));
    const buf = new Uint8Array(4);
    expect(sys.recvfrom(b, buf)).toMatchObject({ bytes: 4, truncated: true });
    expect(sys.recvfrom(b, buf)).toMatchObject({ bytes: 3, truncated: false });
    release(a);
    expect(sys.recv(b, buf)).toBe(0);
    // socket() takes it for AF_UNIX: a listener of packets.
    const fd = owned(sys.socket(sys.AF_UNIX, sys.SOCK_SEQPACKET));
    sys.bind(fd, unixPath());
    sys.listen(fd);
    expect(thrown(() => sys.socket(sys.AF_INET, sys.SOCK_SEQPACKET!))).toMatchObject({ code: 'ERR_INVALID_ARG_VALUE' });
  });

  it('refuses another type with a coded error and opens nothing', async () => {
    const before = openFds();
    expect(thrown(() => sys.socketpair(99))).toMatchObject({ code: 'ERR_INVALID_ARG_VALUE', name: 'RangeError' });
    expect(thrown(() => sys.socketpair('dgram' as unknown as number))).toMatchObject({ code: 'ERR_INVALID_ARG_TYPE' });
    const [a, b] = sys.socketpair().map(owned) as [number, number];
    expect(sys.send(a, enc('stream'))).toBe(6); // the default is still a stream
    expect(sys.recv(b, new Uint8Array(16))).toBe(6);
    release(a);
    release(b);
    expect(await fdsChangedSince(before)).toEqual([]);
  });
});

describe('multicast and broadcast', () => {
  it('joins and leaves an IPv4 group on 127.0.0.1, refusing a second join and a second leave', (ctx) => {
    const [fd] = udp(sys.AF_INET, '0.0.0.0');
    try {
      sys.addMembership(fd, '239.255.42.1', '127.0.0.1');
    } catch (err) {
      const code = (err as SystemError).code;
      if (code === 'ENODEV' || code === 'EADDRNOTAVAIL') return ctx.skip(`no multicast on the loopback interface here (${code})`);
      throw err;
    }
    expect(thrown(() => sys.addMembership(fd, '239.255.42.1', '127.0.0.1'))).toMatchObject({ code: 'EADDRINUSE', syscall: 'setsockopt' });
    sys.dropMembership(fd, '239.255.42.1', '127.0.0.1');
    expect(thrown(() => sys.dropMembership(fd, '239.255.42.1', '127.0.0.1'))).toMatchObject({ code: 'EADDRNOTAVAIL' });
    expect(thrown(() => sys.addMembership(fd, '10.1.2.3'))).toMatchObject({ code: 'EINVAL' }); // not a multicast address
  });

  it('delivers a datagram sent to a joined group while IP_MULTICAST_LOOP is on, none after leaving', async (ctx) => {
    const [member, port] = udp(sys.AF_INET, '0.0.0.0');
    try {
      sys.addMembership(member, '239.255.42.2'); // on the interface the kernel routes the group to
    } catch (err) {
      const code = (err as SystemError).code;
      if (code === 'ENODEV' || code === 'EADDRNOTAVAIL') return ctx.skip(`no interface for multicast here (${code})`);
      throw err;
    }
    const sender = owned(sys.socket(sys.AF_INET, sys.SOCK_DGRAM));
    expect(sys.getsockopt(sender, sys.IPPROTO_IP, sys.IP_MULTICAST_LOOP)).toBe(1);
    try {
      sys.sendto(sender, enc('to the group'), '239.255.42.2', port);
    } catch (err) {
      const code = (err as SystemError).code;
      if (code === 'ENETUNREACH') return ctx.skip('no route for multicast on this machine (ENETUNREACH)');
      throw err;
    }
    const buf = new Uint8Array(64);
    const got = await receive(member, buf);
    expect(text(buf, got.bytes)).toBe('to the group');
    sys.dropMembership(member, '239.255.42.2');
    sys.sendto(sender, enc('gone'), '239.255.42.2', port);
    await new Promise((r) => setTimeout(r, 50));
    expect(sys.recvfrom(member, buf)).toBeNull();
  });

  it('joins an IPv6 group on lo by name and by index', (ctx) => {
    const reason = noIpv6Loopback();
    if (reason !== null) return ctx.skip(reason);
    const fd = owned(sys.socket(sys.AF_INET6, sys.SOCK_DGRAM));
    sys.bind(fd, '::', 0);
    // The loopback interface's index, from the scope the kernel resolves for "%lo" / "%lo0".
    const name = ['lo', 'lo0'].find((n) => thrown(() => sys.addMembership(fd, 'ff02::4242', n)) === undefined);
    if (name === undefined) return ctx.skip('no IPv6 multicast on the loopback interface here');
    expect(thrown(() => sys.addMembership(fd, 'ff02::4242', name))).toMatchObject({ code: 'EADDRINUSE' });
    sys.dropMembership(fd, 'ff02::4242', name);
    // The same interface by index: the index whose membership a join by
    // name then finds there already (EADDRINUSE).
    let index = 0;
    for (let i = 1; i < 256 && index === 0; i++) {
      if (thrown(() => sys.addMembership(fd, 'ff02::4243', i)) !== undefined) continue;
      const byName = thrown(() => sys.addMembership(fd, 'ff02::4243', name));
      if ((byName as SystemError | undefined)?.code === 'EADDRINUSE') index = i;
      else sys.dropMembership(fd, 'ff02::4243', name);
      sys.dropMembership(fd, 'ff02::4243', i);
    }
    expect(index).toBeGreaterThan(0);
    expect(thrown(() => sys.dropMembership(fd, 'ff02::4243', index))).toMatchObject({ code: 'EADDRNOTAVAIL' });
  });

  it('sets and reads the multicast options and SO_BROADCAST; a broadcast needs SO_BROADCAST', () => {
    const [fd] = udp(sys.AF_INET, '0.0.0.0');
    sys.setsockopt(fd, sys.IPPROTO_IP, sys.IP_MULTICAST_TTL, 7);
    expect(sys.getsockopt(fd, sys.IPPROTO_IP, sys.IP_MULTICAST_TTL)).toBe(7);
    sys.setsockopt(fd, sys.IPPROTO_IP, sys.IP_MULTICAST_LOOP, false);
    expect(sys.getsockopt(fd, sys.IPPROTO_IP, sys.IP_MULTICAST_LOOP)).toBe(0);
    expect(sys.getsockopt(fd, sys.SOL_SOCKET, sys.SO_BROADCAST)).toBe(0);
    expect(thrown(() => sys.sendto(fd, enc('all'), '255.255.255.255', 9))).toMatchObject({ code: 'EACCES', syscall: 'sendto' });
    sys.setsockopt(fd, sys.SOL_SOCKET, sys.SO_BROADCAST, true);
    expect(sys.getsockopt(fd, sys.SOL_SOCKET, sys.SO_BROADCAST)).toBe(1);
    expect(thrown(() => sys.setsockopt(fd, sys.IPPROTO_IP, 12345, 1))).toMatchObject({ code: 'ERR_INVALID_ARG_VALUE' });
    if (noIpv6Loopback() === null) {
      const six = owned(sys.socket(sys.AF_INET6, sys.SOCK_DGRAM));
      sys.setsockopt(six, sys.IPPROTO_IPV6, sys.IPV6_MULTICAST_HOPS, 5);
      expect(sys.getsockopt(six, sys.IPPROTO_IPV6, sys.IPV6_MULTICAST_HOPS)).toBe(5);
      sys.setsockopt(six, sys.IPPROTO_IPV6, sys.IPV6_MULTICAST_LOOP, 0);
      expect(sys.getsockopt(six, sys.IPPROTO_IPV6, sys.IPV6_MULTICAST_LOOP)).toBe(0);
    }
  });

  it('refuses bad membership arguments with coded errors', () => {
    const [fd] = udp(sys.AF_INET, '0.0.0.0');
    const cases: Array<[() => unknown, string]> = [
      [() => sys.addMembership(-1, '239.1.1.1'), 'ERR_INVALID_FD'],
      [() => sys.addMembership(fd, 5 as unknown as string), 'ERR_INVALID_ARG_TYPE'],
      [() => sys.addMembership(fd, 'group'), 'ERR_INVALID_IP_ADDRESS'],
      [() => sys.addMembership(fd, '239.1.1.1', 1), 'ERR_INVALID_ARG_TYPE'],
      [() => sys.addMembership(fd, '239.1.1.1', '::1'), 'ERR_INVALID_IP_ADDRESS'],
      [() => sys.addMembership(fd, 'ff02::1', -1), 'ERR_OUT_OF_RANGE'],
      [() => sys.addMembership(fd, 'ff02::1', ''), 'ERR_INVALID_ARG_VALUE'],
      [() => sys.addMembership(fd, 'ff02::1', {} as unknown as number), 'ERR_INVALID_ARG_TYPE'],
      [() => sys.dropMembership(fd, 'nope'), 'ERR_INVALID_IP_ADDRESS'],
    ];
    for (const [call, code] of cases) expect(thrown(call), String(call)).toMatchObject({ code });
    // An unknown interface name is the system's answer.
    const six = owned(sys.socket(sys.AF_INET6, sys.SOCK_DGRAM));
    expect(thrown(() => sys.addMembership(six, 'ff02::1:5', 'no-such-if0'))).toMatchObject({ syscall: 'if_nametoindex' });
  });
});

describe.each(BACKENDS)('datagram sockets on $name', ({ create }) => {
  it('a UDP socket is writable at once, readable once a datagram is queued, not after it is read', () => {
    const sel = track(create());
    const [a, portA] = udp(sys.AF_INET, '127.0.0.1');
    const [b] = udp(sys.AF_INET, '127.0.0.1');
    sel.register(a, EVENT_READ | EVENT_WRITE);
    expect(sel.select(1000).map(([k, e]) => [k.fd, e])).toEqual([[a, EVENT_WRITE]]);
    sys.sendto(b, enc('wake'), '127.0.0.1', portA);
    expect(sel.select(1000).map(([k, e]) => [k.fd, e])).toEqual([[a, EVENT_READ | EVENT_WRITE]]);
    expect(sys.recvfrom(a, new Uint8Array(8))!.bytes).toBe(4);
    expect(sel.select(0).map(([k, e]) => [k.fd, e])).toEqual([[a, EVENT_WRITE]]);
    sel.unregister(a);
  });

  it('a Unix datagram sender stops being writable when the receiver is full, and is writable again once it drains', () => {
    const sel = track(create());
    const [a, b] = sys.socketpair(sys.SOCK_DGRAM).map(owned) as [number, number];
    const buf = new Uint8Array(256);
    sel.register(a, EVENT_WRITE);
    sel.register(b, EVENT_READ);
    expect(sel.select(1000).map(([k, e]) => [k.fd, e])).toEqual([[a, EVENT_WRITE]]);
    let sent = 0;
    while (sys.send(a, buf) !== -1) sent++;
    const ready = new Map(sel.select(0).map(([k, e]) => [k.fd, e]));
    expect(ready.get(b)).toBe(EVENT_READ);
    expect(ready.has(a)).toBe(false);
    let got = 0;
    while (sys.recvfrom(b, buf) !== null) got++;
    expect(got).toBe(sent);
    expect(sel.select(1000).map(([k, e]) => [k.fd, e])).toEqual([[a, EVENT_WRITE]]);
  });
});
