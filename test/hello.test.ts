// The hand-written hello-world server (examples/hello.ts, run from dist/ as
// `npm run hello` does) on every backend: 1,000 sequential requests from a
// node:http client, every one answered, no fd leaked, a clean exit on SIGTERM.
import { spawn } from 'node:child_process';
import { request, type IncomingMessage } from 'node:http';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { startServer, type ServerProcess } from '../support/proc.js';
import { processFdCount as fdCount, settledFdCount } from './fds.js';
import { BACKENDS } from './helpers.js';

const HELLO = fileURLToPath(new URL('../dist/examples/hello.js', import.meta.url));
const REQUESTS = 1000;

let server: ServerProcess | undefined;
afterEach(async () => {
  await server?.stop();
  server = undefined;
});

function get(port: number): Promise<{ res: IncomingMessage; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/', agent: false }, (res) => {
      let body = '';
      res.setEncoding('latin1');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ res, body }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

describe.each(BACKENDS.map((b) => (b.name === 'DefaultSelector' ? 'default' : b.name)))('hello server --backend %s', (backend) => {
  it(`answers ${REQUESTS} sequential requests with zero errors and leaks no fd`, async () => {
    server = await startServer(process.execPath, [HELLO, '--backend', backend, '--port', '0']);
    expect(server.host).toBe('127.0.0.1');
    const before = fdCount(server.pid);
    let errors = 0;
    for (let i = 0; i < REQUESTS; i++) {
      try {
        const { res, body } = await get(server.port);
        if (res.statusCode !== 200 || body !== 'hello world' || res.headers['content-length'] !== '11') errors++;
      } catch {
        errors++;
      }
    }
    expect(errors).toBe(0);
    // The server closes each connection right after answering; give the
    // last close a moment to land before counting.
    expect(await settledFdCount(server.pid, before)).toBe(before);
    expect(await server.stop()).toBe(0);
  });
});

it('hello server rejects an unknown backend with a usage message', async () => {
  await expect(startServer(process.execPath, [HELLO, '--backend', 'nonesuch', '--port', '0'], { timeoutMs: 5000 })).rejects.toThrow(
    /exited \(2\) before listening/,
  );
});

it('hello server out of fds (EMFILE) pauses accepting and still answers every request', async () => {
  // A limit of 40 fds leaves the server ~20 for connections; 50 clients at
  // once exceed it. The pending ones wait in the backlog, none is refused.
  const child = spawn('sh', ['-c', `ulimit -n 40 && exec "${process.execPath}" "${HELLO}" --backend default --port 0`], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  try {
    const line = await new Promise<string>((resolve, reject) => {
      createInterface({ input: child.stdout! }).once('line', resolve);
      void exited.then((code) => reject(new Error(`exited ${code}: ${stderr}`)));
    });
    const port = Number(/:(\d+)$/.exec(line)![1]);
    let errors = 0;
    for (let wave = 0; wave < 4; wave++) {
      const answers = await Promise.allSettled(Array.from({ length: 50 }, () => get(port)));
      errors += answers.filter((a) => a.status === 'rejected' || a.value.body !== 'hello world').length;
    }
    expect(errors).toBe(0);
    expect(stderr).toMatch(/EMFILE \(out of fds\)/);
  } finally {
    child.kill('SIGTERM');
  }
  expect(await exited).toBe(0);
});
