// attach(): the reactor inside Node's event loop, on every backend, beside
// node:net, setTimeout and Promises; unref(); worker threads.
import { spawnSync } from 'node:child_process';
import net from 'node:net';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { EVENT_READ, Reactor, sys } from '../lib/index.js';
import { BACKENDS, enc, socketpair, track } from './helpers.js';

const distIndex = fileURLToPath(new URL('../dist/lib/index.js', import.meta.url));
// Module specifiers for code run in a child process or a worker.
const indexUrl = JSON.stringify(pathToFileURL(distIndex).href);

async function netEcho(message: string): Promise<string> {
  const server = net.createServer((s) => s.pipe(s));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  try {
    const client = net.connect(port, '127.0.0.1');
    client.write(message);
    const reply = await new Promise<string>((resolve, reject) => {
      client.once('data', (d) => resolve(d.toString()));
      client.once('error', reject);
    });
    client.destroy();
    return reply;
  } finally {
    server.close();
  }
}

describe.each(BACKENDS)('attach() on $name', ({ create }) => {
  it('dispatches handlers, timers and awaits while node:net and setTimeout work', async () => {
    const r = new Reactor({ selector: track(create()) });
    r.attach();
    try {
      const [a, b] = socketpair();
      // A 200-round ping-pong on the reactor, with a node:net echo and a
      // Node timer going on at the same time.
      let rounds = 0;
      const buf = new Uint8Array(8);
      const pingPong = new Promise<void>((resolve) => {
        r.addHandler(
          a,
          (fd) => {
            sys.read(fd, buf);
            if (++rounds === 200) {
              r.removeHandler(fd);
              resolve();
            } else sys.write(b, enc('p'));
          },
          EVENT_READ,
        );
      });
      sys.write(b, enc('p'));
      const nodeTimer = new Promise<string>((resolve) => setTimeout(() => resolve('node timer'), 20));
      const reactorTimer = new Promise<number>((resolve) => {
        const start = r.time();
        r.callLater(30, () => resolve(r.time() - start));
      });
      const [echo, , nodeT, reactorElapsed] = await Promise.all([netEcho('hello over node:net'), pingPong, nodeTimer, reactorTimer]);
      expect(echo).toBe('hello over node:net');
      expect(rounds).toBe(200);
      expect(nodeT).toBe('node timer');
      expect(reactorElapsed).toBeGreaterThanOrEqual(30);

      // async/await on the reactor's wait objects.
      const t0 = r.time();
      await r.sleep(15);
      expect(r.time() - t0).toBeGreaterThanOrEqual(15);
      setTimeout(() => sys.write(b, enc('late')), 10);
      expect(await r.readable(a)).toBe(EVENT_READ);
      expect(sys.read(a, buf)).toBe(4);
      expect(r.selector.getMap().size).toBe(0);

      // A coroutine awaited from async code.
      const task = r.spawn(function* () {
        yield r.sleep(5);
        return 'task done';
      });
      expect(await task).toBe('task done');

      // callSoon wakes an idle attached reactor at once.
      expect(await new Promise((resolve) => r.callSoon(() => resolve('soon')))).toBe('soon');
    } finally {
      r.close();
    }
  });

  it('sees an interest change made while it waits, without waiting for a timeout', async () => {
    const r = new Reactor({ selector: track(create()) });
    r.attach();
    try {
      const [a, b] = socketpair();
      const [c, d] = socketpair();
      r.addHandler(a, () => {}, EVENT_READ); // idle: the watcher waits on it
      await new Promise((resolve) => setTimeout(resolve, 20));
      const got = new Promise<number>((resolve) => r.addHandler(c, (fd) => resolve(fd), EVENT_READ));
      sys.write(d, enc('x'));
      const start = Date.now();
      expect(await got).toBe(c);
      expect(Date.now() - start).toBeLessThan(1000);
      void b;
    } finally {
      r.close();
    }
  });
});

describe('attach() and the process lifetime', () => {
  function runChild(script: string): { status: number | null; stdout: string; stderr: string; ms: number } {
    const start = Date.now();
    const res = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 15_000 });
    return { status: res.status, stdout: res.stdout, stderr: res.stderr, ms: Date.now() - start };
  }

  for (const backend of BACKENDS.map((b) => b.name).filter((n) => n !== 'DefaultSelector')) {
    it(`an unref()ed reactor with a handler lets the process exit (${backend})`, () => {
      const res = runChild(`
        import { Reactor, sys, EVENT_READ } from ${indexUrl};
        import { selectorClass } from ${indexUrl};
        const r = new Reactor({ selector: new (selectorClass(${JSON.stringify(backend)}))() });
        const [a] = sys.socketpair();
        r.addHandler(a, () => {}, EVENT_READ);
        r.callLater(60000, () => {});
        r.attach();
        r.unref();
        setTimeout(() => console.log('node timer ran'), 10);
      `);
      expect(res.stderr).toBe('');
      expect(res.stdout).toBe('node timer ran\n');
      expect(res.status).toBe(0);
      expect(res.ms).toBeLessThan(10_000);
    });
  }

  for (const backend of BACKENDS.map((b) => b.name).filter((n) => n !== 'DefaultSelector')) {
    it(`closing the selector under an attached reactor closes the reactor, and the next one attaches (${backend})`, () => {
      const res = runChild(`
        import { Reactor, sys, EVENT_READ } from ${indexUrl};
        import { selectorClass } from ${indexUrl};
        const Selector = selectorClass(${JSON.stringify(backend)});
        const [a, b] = sys.socketpair();
        const first = new Selector();
        const r1 = new Reactor({ selector: first });
        r1.addHandler(a, () => console.log('r1 handler ran'), EVENT_READ);
        r1.callLater(60000, () => console.log('r1 timer ran'));
        r1.attach();
        const fd = first.backend === 'epoll' || first.backend === 'io_uring' ? first.fileno() : -1;
        first.close();
        // (Printed later: the first console.log may open an fd of its own.)
        const r1State = ['r1', r1.closed, r1.attached].join(' ');
        // epoll and io_uring hand the same fd number to the next selector:
        // libuv must no longer watch it under the old reactor.
        let second = new Selector();
        const spare = [];
        while (fd >= 0 && second.fileno() !== fd && spare.length < 8) spare.push(second), (second = new Selector());
        if (fd >= 0 && second.fileno() !== fd) console.log('fd not reused', fd, second.fileno());
        for (const s of spare) s.close();
        console.log(r1State);
        const r2 = new Reactor({ selector: second });
        r2.addHandler(b, (f) => { sys.read(f, new Uint8Array(4)); console.log('r2 handler ran'); r2.close(); }, EVENT_READ);
        r2.attach();
        sys.write(a, new Uint8Array([1]));
        // Nothing of r1 keeps the process alive: it exits once r2 closes.
      `);
      expect(res.stderr).toBe('');
      expect(res.stdout).toBe('r1 true false\nr2 handler ran\n');
      expect(res.status).toBe(0);
    });
  }

  it('a ref()ed reactor keeps the process alive until its handler is done', () => {
    const res = runChild(`
      import { Reactor, sys, EVENT_READ } from ${indexUrl};
      const r = new Reactor();
      const [a, b] = sys.socketpair();
      r.addHandler(a, (fd) => { sys.read(fd, new Uint8Array(4)); r.removeHandler(fd); console.log('handled'); }, EVENT_READ);
      r.attach();
      r.unref();
      r.ref();
      // Only the reactor keeps the process alive long enough for this.
      setTimeout(() => sys.write(b, new Uint8Array([1])), 100).unref();
    `);
    expect(res.stderr).toBe('');
    expect(res.stdout).toBe('handled\n');
    expect(res.status).toBe(0);
  });
});

describe('attach() in a worker thread', () => {
  for (const backend of BACKENDS.map((b) => b.name).filter((n) => n !== 'DefaultSelector')) {
    it(`runs handlers and timers on the worker's own loop (${backend})`, async () => {
      const source = `
        import { parentPort } from 'node:worker_threads';
        import { Reactor, sys, EVENT_READ } from ${indexUrl};
        import { selectorClass } from ${indexUrl};
        const r = new Reactor({ selector: new (selectorClass(${JSON.stringify(backend)}))() });
        r.attach();
        const [a, b] = sys.socketpair();
        let n = 0;
        r.addHandler(a, (fd) => {
          sys.read(fd, new Uint8Array(8));
          if (++n < 50) sys.write(b, new Uint8Array([1]));
          else { r.removeHandler(fd); r.callLater(5, () => { parentPort.postMessage(n); r.close(); sys.close(a); sys.close(b); }); }
        }, EVENT_READ);
        sys.write(b, new Uint8Array([1]));
      `;
      const worker = new Worker(new URL(`data:text/javascript,${encodeURIComponent(source)}`));
      const result = await new Promise((resolve, reject) => {
        worker.once('message', resolve);
        worker.once('error', reject);
      });
      expect(result).toBe(50);
      expect(await new Promise((resolve) => worker.once('exit', resolve))).toBe(0);
    });
  }

  it('a worker terminated while its reactor is attached exits cleanly', async () => {
    const source = `
      import { parentPort } from 'node:worker_threads';
      import { Reactor, PollSelector, sys, EVENT_READ } from ${indexUrl};
      const r = new Reactor({ selector: new PollSelector() });
      const [a] = sys.socketpair();
      r.addHandler(a, () => {}, EVENT_READ);
      r.attach();
      parentPort.postMessage('attached');
    `;
    const worker = new Worker(new URL(`data:text/javascript,${encodeURIComponent(source)}`));
    expect(await new Promise((resolve) => worker.once('message', resolve))).toBe('attached');
    expect(await worker.terminate()).toBe(1);
  });
});
