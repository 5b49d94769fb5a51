// The reactor examples shut down on SIGTERM and SIGINT: they stop accepting,
// close their connections (one client idle, one in the middle of a request)
// and exit 0 within 2 s; with --workers the parent passes the signal on and
// no worker outlives it.
import { type ChildProcess, spawn } from 'node:child_process';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { alive, childPids, reapPids } from '../support/proc.js';

const dist = (p: string) => fileURLToPath(new URL(`../dist/${p}`, import.meta.url));
const started: ChildProcess[] = [];

afterEach(() => {
  for (const c of started.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});

async function start(script: string, args: string[]): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(process.execPath, [dist(script), ...args, '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
  started.push(child);
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /listening on 127\.0\.0\.1:(\d+)\n/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    child.once('exit', (code) => reject(new Error(`${script} exited with ${code} before listening: ${stderr}`)));
  });
  return { child, port };
}

/** A client connected to the server; `closed` resolves once the server has closed it. */
async function client(port: number, send?: string): Promise<{ socket: net.Socket; closed: Promise<void> }> {
  const socket = net.connect(port, '127.0.0.1');
  socket.on('error', () => {}); // a reset is a close too
  await new Promise((resolve) => socket.once('connect', resolve));
  socket.resume();
  if (send !== undefined) socket.write(send);
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  return { socket, closed };
}

const EXAMPLES: Array<[string, string, string[]]> = [
  ['hello (callbacks)', 'examples/hello-reactor.js', ['--style', 'callbacks']],
  ['hello (generators)', 'examples/hello-reactor.js', ['--style', 'generators']],
  ['hello (async)', 'examples/hello-reactor.js', ['--style', 'async']],
  ['hello (callbacks, keep-alive)', 'examples/hello-reactor.js', ['--style', 'callbacks', '--keep-alive']],
  ['hello (generators, keep-alive)', 'examples/hello-reactor.js', ['--style', 'generators', '--keep-alive']],
  ['hello (async, keep-alive)', 'examples/hello-reactor.js', ['--style', 'async', '--keep-alive']],
  ['echo', 'examples/echo-reactor.js', []],
  ['chat', 'examples/chat-reactor.js', []],
];

describe.each(['SIGTERM', 'SIGINT'] as const)('the examples on %s', (signal) => {
  it.each(EXAMPLES)('%s exits 0 within 2 s, closing its connections', async (_name, script, args) => {
    const { child, port } = await start(script, args);
    const idle = await client(port);
    // A request cut short: the keep-alive servers wait for its end.
    const midRequest = await client(port, 'GET / HTTP/1.1\r\nHost: x');
    await new Promise((r) => setTimeout(r, 100)); // both accepted
    const t0 = performance.now();
    child.kill(signal);
    const [code, sig] = await new Promise<[number | null, string | null]>((resolve) => child.once('exit', (c, s) => resolve([c, s])));
    const took = performance.now() - t0;
    expect({ code, sig }).toEqual({ code: 0, sig: null });
    expect(took).toBeLessThan(2000);
    await Promise.all([idle.closed, midRequest.closed]);
  });

  it.each([['callbacks'], ['generators']])('hello --workers 2 (%s) passes it to its workers and exits 0 once they have, leaving none', async (style) => {
    const { child, port } = await start('examples/hello-reactor.js', ['--style', style, '--workers', '2']);
    const workers = childPids(child.pid!);
    expect(workers).toHaveLength(2);
    const connected = await Promise.all([client(port), client(port, 'GET / HTTP/1.1\r\n')]);
    const t0 = performance.now();
    child.kill(signal);
    const [code, sig] = await new Promise<[number | null, string | null]>((resolve) => child.once('exit', (c, s) => resolve([c, s])));
    expect({ code, sig }).toEqual({ code: 0, sig: null });
    expect(performance.now() - t0).toBeLessThan(2000);
    expect(workers.filter(alive)).toEqual([]);
    expect(await reapPids(workers, 0)).toEqual([]);
    await Promise.all(connected.map((c) => c.closed));
  });
});
