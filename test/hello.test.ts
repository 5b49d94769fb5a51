// The hand-written hello-world server (examples/hello.ts, run from dist/ as
// `npm run hello` does) on every backend: 1,000 sequential requests from a
// node:http client, every one answered, no fd leaked, a clean exit on SIGTERM.
import { request, type IncomingMessage } from 'node:http';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { fdCount, startServer, type ServerProcess } from '../bench/lib/proc.js';
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

async function settle(pid: number, expected: number, ms = 5000): Promise<number> {
  const deadline = Date.now() + ms;
  let n = fdCount(pid);
  while (n !== expected && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 20));
    n = fdCount(pid);
  }
  return n;
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
    expect(await settle(server.pid, before)).toBe(before);
    expect(await server.stop()).toBe(0);
  });
});

it('hello server rejects an unknown backend with a usage message', async () => {
  await expect(startServer(process.execPath, [HELLO, '--backend', 'nonesuch', '--port', '0'], { timeoutMs: 5000 })).rejects.toThrow(
    /exited \(2\) before listening/,
  );
});
