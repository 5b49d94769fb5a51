// The benchmark harness measures what it claims: ab's and wrk's reports are
// read right (real reports, captured from runs against a server that answers
// 404 to some requests and drops others), a process's CPU time read from
// /proc matches what the process itself used, and the embedded load
// generator counts complete, failed and non-200 replies of a real server.
// The charts give a kind of server one colour in every chart, tell every
// backend apart by colour and marker, mark the sizes the micro-benchmark
// skipped, and are redrawn from a saved report as PNGs.
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createInterface } from 'node:readline';
import { afterEach, describe, expect, it } from 'vitest';
import { curveData, selectCurveChart, serverCpuChart, type ServerBar } from '../bench/lib/charts.js';
import { parseAb, parseWrk, parseWrkKeepAlive, probeKeepAlive, runLoad } from '../bench/lib/load.js';
import { alive, childPids, cpuTimeUs, descendantPids, onPath, reapPids, startServer, statCpuUs } from '../support/proc.js';
import { compileC } from '../bench/build-c.js';
import { availableBackends, DefaultSelector, EVENT_READ, sys } from '../lib/index.js';

const fixture = (name: string) => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8');

describe("reading ab's and wrk's reports", () => {
  it('reads a clean ab run', () => {
    expect(parseAb(fixture('ab-ok.txt'))).toEqual({
      complete: 50,
      failed: 0,
      non200: 0,
      timeTakenS: 0.022,
      requestsPerSecond: 2249.92,
    });
  });

  it('reads failed requests and non-2xx responses from ab', () => {
    const r = parseAb(fixture('ab-failures.txt'));
    expect(r).toMatchObject({ complete: 30, failed: 10, non200: 10, requestsPerSecond: 237.8 });
  });

  it('refuses output that is not an ab report', () => {
    expect(() => parseAb('apr_socket_connect(): Connection refused (111)\n')).toThrow(/Complete requests/);
  });

  it('reads requests, socket errors and non-2xx responses from wrk', () => {
    expect(parseWrk(fixture('wrk-failures.txt'))).toEqual({
      requests: 632,
      durationS: 1.01,
      socketErrors: 316,
      non2xx: 316,
      requestsPerSecond: 626.75,
    });
  });
});

describe('CPU accounting from /proc', () => {
  it("matches the CPU time a child process reports burning itself", async () => {
    // The child burns 300 ms of CPU when told to, measures it with its own
    // process.cpuUsage(), reports it, and then idles until killed.
    const script = `
      console.log('ready');
      process.stdin.once('data', () => {
        const t0 = process.cpuUsage();
        let x = 0;
        for (;;) {
          for (let i = 0; i < 1e5; i++) x += i;
          const u = process.cpuUsage(t0);
          if (u.user + u.system >= 300000) { console.log(String(u.user + u.system)); break; }
        }
      });`;
    const child = spawn(process.execPath, ['-e', script], { stdio: ['pipe', 'pipe', 'inherit'] });
    try {
      const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
      expect((await lines.next()).value).toBe('ready');
      const before = cpuTimeUs(child.pid!);
      const beforeStat = statCpuUs(child.pid!);
      child.stdin!.write('go\n');
      const burnt = Number((await lines.next()).value);
      const measured = cpuTimeUs(child.pid!) - before;
      const measuredStat = statCpuUs(child.pid!) - beforeStat;
      expect(burnt).toBeGreaterThanOrEqual(300_000);
      // What /proc adds beyond the child's own window: reading stdin and
      // writing one line, well under 10% of 300 ms.
      expect(measured).toBeGreaterThanOrEqual(burnt * 0.97);
      expect(measured).toBeLessThan(burnt * 1.1);
      // utime + stime counts in 10 ms clock ticks.
      expect(Math.abs(measuredStat - burnt)).toBeLessThan(burnt * 0.1 + 20_000);
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('sees an idle process use almost nothing', async () => {
    const child = spawn(process.execPath, ['-e', "console.log('ready'); setInterval(() => {}, 1000)"], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    try {
      await createInterface({ input: child.stdout! })[Symbol.asyncIterator]().next();
      const before = cpuTimeUs(child.pid!);
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(cpuTimeUs(child.pid!) - before).toBeLessThan(20_000);
    } finally {
      child.kill('SIGKILL');
    }
  });
});

describe('finding and stopping the processes a server forked', () => {
  it('finds the children and grandchildren, and kills the ones its death left behind', async () => {
    // A parent with two children, one of which has a child of its own; all
    // idle until killed. The parent prints the pids once all are running.
    const idle = "setInterval(() => {}, 1000)";
    const script = `
      const { spawn } = require('node:child_process');
      const idle = ${JSON.stringify(idle)};
      const a = spawn(process.execPath, ['-e', idle], { stdio: 'ignore' });
      const b = spawn(process.execPath, ['-e', "const c = require('node:child_process').spawn(process.execPath, ['-e', " + JSON.stringify(idle) + "], { stdio: 'ignore' }); console.log(c.pid); " + idle], { stdio: ['ignore', 'pipe', 'ignore'] });
      b.stdout.once('data', (c) => console.log(JSON.stringify({ a: a.pid, b: b.pid, c: Number(c) })));
      ${idle}`;
    const parent = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    let pids: { a: number; b: number; c: number } | undefined;
    try {
      const line = (await createInterface({ input: parent.stdout! })[Symbol.asyncIterator]().next()).value as string;
      pids = JSON.parse(line) as { a: number; b: number; c: number };
      expect(childPids(parent.pid!).sort()).toEqual([pids.a, pids.b].sort());
      expect(descendantPids(parent.pid!).sort()).toEqual([pids.a, pids.b, pids.c].sort());
      // SIGKILL leaves the children running: reapPids finds them alive
      // after its grace period and kills them.
      parent.kill('SIGKILL');
      const all = [pids.a, pids.b, pids.c];
      expect((await reapPids(all, 100)).sort()).toEqual(all.sort());
      await expect.poll(() => all.filter(alive), { timeout: 2000 }).toEqual([]);
      expect(childPids(parent.pid!)).toEqual([]);
    } finally {
      parent.kill('SIGKILL');
      for (const pid of pids ? [pids.a, pids.b, pids.c] : []) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // Already gone.
        }
      }
    }
  });
});

describe('the embedded load generator', () => {
  const servers: Server[] = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
  });

  /** An HTTP server on loopback whose n-th request (from 1) gets `answer(n)`. */
  async function serve(answer: (n: number) => 'ok' | 'not found' | 'drop'): Promise<string> {
    let n = 0;
    const server = createServer((req, res) => {
      const what = answer(++n);
      if (what === 'drop') return req.socket.destroy();
      res.statusCode = what === 'ok' ? 200 : 404;
      res.end('hello world');
    });
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  }

  const load = (url: string, requests: number) =>
    runLoad('embedded', { url, requests, concurrency: 10, durationS: 1, timeoutS: 30 });

  it('makes every request on a new connection and counts the replies', async () => {
    const r = await load(await serve(() => 'ok'), 300);
    expect(r).toMatchObject({ complete: 300, failed: 0, non200: 0, unfinished: 0 });
    expect(r.requestsPerSecond).toBeGreaterThan(0);
    expect(r.cpuUs).toBeGreaterThan(0);
  });

  it('with a rate, starts connections no faster than it, on a schedule kept from the start', async () => {
    const url = await serve(() => 'ok');
    const r = await runLoad('embedded', { url, requests: 200, concurrency: 10, durationS: 1, timeoutS: 30, rate: 500 });
    expect(r).toMatchObject({ complete: 200, failed: 0, non200: 0, unfinished: 0 });
    // The 200th connection is due 199/500 s after the first: a run cannot be
    // shorter (unpaced, node:http answers 200 in a small part of that).
    expect(r.elapsedS).toBeGreaterThanOrEqual(0.398);
    expect(r.elapsedS).toBeLessThan(2);
    expect(r.requestsPerSecond).toBeLessThanOrEqual(505);
  });

  it('counts non-200 replies apart, as complete', async () => {
    const r = await load(await serve((n) => (n % 2 === 0 ? 'not found' : 'ok')), 300);
    expect(r).toMatchObject({ complete: 300, failed: 0, non200: 150, unfinished: 0 });
  });

  it('counts connections closed before a reply as failed', async () => {
    const r = await load(await serve((n) => (n % 3 === 0 ? 'drop' : 'ok')), 300);
    expect(r).toMatchObject({ complete: 200, failed: 100, non200: 0, unfinished: 0 });
  });

  it('counts refused connections as failed', async () => {
    const url = await serve(() => 'ok');
    await new Promise((resolve) => servers.pop()!.close(resolve));
    const r = await load(url, 50);
    expect(r).toMatchObject({ complete: 0, failed: 50, non200: 0, unfinished: 0 });
  });
});

describe('the keep-alive load', () => {
  const servers: Server[] = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
  });

  /** node:http answering hello world; `close` makes every reply end its connection. */
  async function serve(close: boolean): Promise<string> {
    const server = createServer((_req, res) => {
      if (close) res.setHeader('Connection', 'close');
      res.end('hello world');
    });
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  }

  it("reads the keep-alive line of wrk's Lua script", () => {
    expect(parseWrkKeepAlive('Requests/sec: 1.0\nkeep-alive: 1234 responses, 5 closed by the server\n')).toEqual({ responses: 1234, closedByServer: 5 });
    expect(() => parseWrkKeepAlive('Requests/sec: 1.0\n')).toThrow(/keep-alive line/);
  });

  it('finds that a server keeps its connections, or says why not', async () => {
    expect(await probeKeepAlive(await serve(false))).toBeUndefined();
    expect(await probeKeepAlive(await serve(true))).toMatch(/Connection: close/);
  });

  it.skipIf(!onPath('wrk'))('counts replies per connection, and connections the server closed', async () => {
    const opts = { requests: 0, concurrency: 4, durationS: 1, timeoutS: 30, keepAlive: true };
    const kept = await runLoad('wrk', { ...opts, url: await serve(false) });
    expect(kept.complete).toBeGreaterThan(100);
    expect(kept).toMatchObject({ failed: 0, non200: 0, connections: 4, closedByServer: 0 });
    const closed = await runLoad('wrk', { ...opts, url: await serve(true) });
    expect(closed.closedByServer).toBeGreaterThan(0);
    expect(closed.connections).toBe(4 + closed.closedByServer!);
  });

  it.skipIf(!onPath('wrk'))('with a delay, offers at most a request per connection per delay', async () => {
    const url = await serve(false);
    const opts = { url, requests: 0, concurrency: 4, durationS: 1, timeoutS: 30, keepAlive: true };
    const free = await runLoad('wrk', opts);
    const paced = await runLoad('wrk', { ...opts, delayMs: 20 });
    // 4 connections, one request each per 20 ms at most: 200 in a second,
    // a few more for the first requests and wrk's timing. Unpaced, the same
    // server answers thousands.
    expect(paced).toMatchObject({ failed: 0, non200: 0, closedByServer: 0 });
    expect(paced.complete).toBeGreaterThan(50);
    expect(paced.complete).toBeLessThanOrEqual(220);
    expect(free.complete).toBeGreaterThan(4 * paced.complete);
  });
});

describe('the charts', () => {
  type Spec = { layer: Array<{ encoding?: Record<string, { scale?: { domain: string[]; range: unknown[] } }>; data?: { values: Array<Record<string, unknown>> } }> };
  /** The colour (or marker) each value gets, from the first layer that encodes `channel`. */
  function scaleOf(spec: unknown, channel: string): Map<string, unknown> {
    const layer = (spec as Spec).layer.find((l) => l.encoding?.[channel]?.scale !== undefined)!;
    const { domain, range } = layer.encoding![channel]!.scale!;
    expect(domain.length).toBe(range.length);
    return new Map(domain.map((d, i) => [d, range[i]]));
  }
  const bar = (server: string, kind: string): ServerBar => ({ server, kind, cpuUsPerRequest: 10, min: 9, max: 11 });

  it('gives each kind of server the same colour in every server chart, whatever kinds a chart has', () => {
    const hello = scaleOf(serverCpuChart([bar('c-epoll', 'C'), bar('epoll', 'hand-written loop'), bar('reactor async', 'reactor'), bar('node:http', 'Node')], 'hello'), 'color');
    const db = scaleOf(serverCpuChart([bar('reactor + mysql2', 'reactor'), bar('node:net + mysql2', 'Node')], 'db'), 'color');
    expect([...db.keys()]).toEqual(['reactor', 'Node']); // only the kinds present, in the legend
    for (const [kind, colour] of db) expect(colour, kind).toBe(hello.get(kind));
    expect(new Set(hello.values()).size).toBe(4);
  });

  const micro = {
    rows: ['epoll', 'io_uring', 'select'].flatMap((backend) =>
      [1, 1000, 10000]
        .filter((nfds) => backend !== 'select' || nfds < 10000)
        .map((nfds) => ({ op: 'select', backend, nfds, js: { median: 2000, min: 1900, max: 2100, n: 7 } })),
    ),
    skipped: ['select at 10000 fds: select() is limited to fds below FD_SETSIZE (1024)'],
  };

  it('tells epoll from io_uring by colour and marker shape, and marks the size select skipped', () => {
    const { points, skipped } = curveData(micro);
    expect(skipped).toEqual([{ backend: 'select', nfds: 10000, reason: 'it takes fds below FD_SETSIZE (1024) only' }]);
    const spec = selectCurveChart(points, 'curve', skipped);
    const colours = scaleOf(spec, 'color');
    const shapes = scaleOf(spec, 'shape');
    expect(colours.get('epoll')).not.toBe(colours.get('io_uring'));
    expect(shapes.get('epoll')).not.toBe(shapes.get('io_uring'));
    // The skipped point: a mark at select's 10,000 fds, and the subtitle says why.
    const marked = (spec as Spec).layer.flatMap((l) => l.data?.values ?? []).filter((v) => v['backend'] === 'select' && v['nfds'] === 10000);
    expect(marked.length).toBeGreaterThan(0);
    expect(JSON.stringify((spec as { title: unknown }).title)).toMatch(/select at 10,000 fds, not measured \(it takes fds below FD_SETSIZE \(1024\) only\)/);
    // A backend's own colour is never a kind's colour.
    const kindColours = new Set(scaleOf(serverCpuChart([bar('a', 'C'), bar('b', 'hand-written loop'), bar('c', 'reactor'), bar('d', 'Node')], 't'), 'color').values());
    for (const [backend, colour] of colours) expect(kindColours.has(colour), backend).toBe(false);
  });

  it("draws a saved report's PNGs again without running anything (node dist/bench/charts.js)", () => {
    const root = fileURLToPath(new URL('..', import.meta.url));
    const dir = mkdtempSync(join(tmpdir(), 'charts-'));
    try {
      copyFileSync(join(root, 'bench', 'results', 'latest.json'), join(dir, 'saved.json'));
      const out = spawnSync(process.execPath, [join(root, 'dist', 'bench', 'charts.js'), '--input', join(dir, 'saved.json')], { encoding: 'utf8', timeout: 60_000 });
      expect(out.status, out.stderr).toBe(0);
      const pngs = readdirSync(dir).filter((f) => f.endsWith('.png')).sort();
      expect(pngs).toEqual(['saved-db-cpu.png', 'saved-keepalive-cpu.png', 'saved-select-curve.png', 'saved-server-cpu.png']);
      for (const png of pngs) expect(readFileSync(join(dir, png)).subarray(0, 8).toString('latin1'), png).toBe('\x89PNG\r\n\x1a\n');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 90_000);
});

describe('the datagram section', () => {
  const root = fileURLToPath(new URL('..', import.meta.url));
  const backends = availableBackends();

  /** Sends `count` datagrams of distinct bytes to 127.0.0.1:port and checks each echo. */
  function echoes(port: number, count: number): void {
    const fd = sys.socket(sys.AF_INET, sys.SOCK_DGRAM);
    try {
      sys.connect(fd, '127.0.0.1', port);
      const sel = new DefaultSelector();
      sel.register(fd, EVENT_READ);
      const buf = new Uint8Array(2048);
      for (let i = 0; i < count; i++) {
        const out = new Uint8Array(1 + (i % 1500)).fill(i & 0xff);
        expect(sys.send(fd, out)).toBe(out.length);
        expect(sel.select(5000).length, `echo ${i}`).toBe(1);
        const got = sys.recvfrom(fd, buf)!;
        expect(got.bytes).toBe(out.length);
        expect(got.truncated).toBe(false);
        expect(buf.subarray(0, got.bytes)).toEqual(out);
        expect(got.address).toMatchObject({ address: '127.0.0.1', port });
      }
      sel.close();
    } finally {
      sys.close(fd);
    }
  }

  const servers = [
    ...backends.map((b) => ({ name: `sys + ${b}`, command: process.execPath, args: [join(root, 'dist/bench/servers/udp-echo.js'), '--backend', b] })),
    { name: 'node:dgram', command: process.execPath, args: [join(root, 'dist/bench/servers/udp-dgram.js')] },
  ];
  for (const s of servers) {
    it(`${s.name} echoes every datagram byte for byte to its sender, and exits 0 on SIGTERM`, async () => {
      const server = await startServer(s.command, [...s.args, '--port', '0']);
      try {
        echoes(server.port, 200);
      } finally {
        expect(await server.stop()).toBe(0);
      }
    });
  }

  it('the C echo server and the load generator: every datagram comes back, and the report says so', async () => {
    const [echo, load] = await Promise.all([compileC('udp_echo'), compileC('udp_load')]);
    const server = await startServer(echo, ['--port', '0']);
    try {
      echoes(server.port, 200);
      const out = spawnSync(load, ['--port', String(server.port), '--count', '5000', '--window', '8', '--size', '100'], { encoding: 'utf8' });
      expect(out.status, out.stderr).toBe(0);
      expect(JSON.parse(out.stdout)).toMatchObject({ sent: 5000, received: 5000, lost: 0 });
    } finally {
      await server.stop();
    }
  });

  it('the load generator counts what never comes back as lost, and gives up', async () => {
    const load = await compileC('udp_load');
    // A bound socket that never answers: every datagram in flight is lost.
    const silent = sys.socket(sys.AF_INET, sys.SOCK_DGRAM);
    try {
      sys.bind(silent, '127.0.0.1', 0);
      const port = (sys.getsockname(silent) as { port: number }).port;
      const out = spawnSync(load, ['--port', String(port), '--count', '3', '--window', '2', '--timeout-ms', '50'], { encoding: 'utf8', timeout: 10_000 });
      expect(out.status).toBe(1);
      const report = JSON.parse(out.stdout) as { sent: number; received: number; lost: number };
      expect(report.received).toBe(0);
      expect(report.lost).toBeGreaterThan(3);
      expect(report.sent).toBe(report.lost);
    } finally {
      sys.close(silent);
    }
  });
});
