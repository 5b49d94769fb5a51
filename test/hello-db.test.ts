// The database hello server (examples/hello-db.ts, from dist/ as
// `npm run hello:db` runs it) against a real MariaDB: every request answered
// with the value of SELECT 1; the database killed under load: requests in
// flight and after are answered 502 (or closed), none hangs, the dead pool
// connections' fds are closed; a clean exit on SIGTERM. --start-db: its own
// throwaway MariaDB, stopped and removed when the server exits. With no
// database to reach: exit 1 and the next step named.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { request } from 'node:http';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { alive, descendantPids, startServer, type ServerProcess } from '../support/proc.js';
import { processFdCount as fdCount, settledFdCount } from './fds.js';
import { defaultBackend, kqueueLimit } from './helpers.js';
import { mariaDbMissing, startMariaDb, withMariaDb, type MariaDb } from '../support/mariadb.js';

const HELLO_DB = fileURLToPath(new URL('../dist/examples/hello-db.js', import.meta.url));

let server: ServerProcess | undefined;
let db: MariaDb | undefined;
afterEach(async () => {
  await server?.stop();
  await db?.stop();
  server = db = undefined;
});

interface Answer {
  status: number;
  body: string;
}

/** One request; a connection closed without a reply is status 0. */
function get(port: number): Promise<Answer> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path: '/', agent: false, timeout: 10_000 }, (res) => {
      let body = '';
      res.setEncoding('latin1');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', () => resolve({ status: 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error('no answer within 10 s')));
    req.on('error', (err) => resolve({ status: err.message.startsWith('no answer') ? -1 : 0, body: '' }));
    req.end();
  });
}

async function start(): Promise<{ db: MariaDb; server: ServerProcess }> {
  db = await startMariaDb();
  server = await startServer(
    process.execPath,
    [HELLO_DB, '--port', '0', '--db-host', db.host, '--db-port', String(db.port), '--user', db.user, '--password', db.password],
    { timeoutMs: 30_000 },
  );
  return { db, server };
}

/** A port of 127.0.0.1 that nothing listens on (free when asked). */
async function closedPort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  const { port } = server.address() as { port: number };
  await new Promise((r) => server.close(r));
  return port;
}

describe('hello-db server without a database', () => {
  // libkqueue takes a refused connect's SO_ERROR inside kevent() (R4), so mysql2
  // over the example's DefaultSelector sees a closed connection, not ECONNREFUSED.
  it.skipIf(kqueueLimit(defaultBackend(), 'kqueueEatsSoError'))('exits 1 on ECONNREFUSED, naming the next step (--db-* options or --start-db), without listening', async () => {
    const port = await closedPort();
    const out = spawnSync(process.execPath, [HELLO_DB, '--port', '0', '--db-port', String(port)], { encoding: 'utf8', timeout: 20_000 });
    expect(out.status, out.stderr).toBe(1);
    expect(out.stdout).not.toMatch(/listening on/);
    const lines = out.stderr.trimEnd().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toBe(`hello-db: connect ECONNREFUSED 127.0.0.1:${port}`);
    expect(lines[1]).toMatch(/^hello-db: .*--db-host\/--db-port.*--start-db/);
  }, 30_000);
});

describe.skipIf(mariaDbMissing() !== undefined)(withMariaDb('hello-db server'), () => {
  it('--start-db: starts its own MariaDB, answers SELECT 1, and on SIGTERM exits 0 with that MariaDB stopped and its directory removed', async () => {
    server = await startServer(process.execPath, [HELLO_DB, '--port', '0', '--start-db'], { timeoutMs: 90_000 });
    const mariadbd = descendantPids(server.pid).filter((pid) => /mariadbd/.test(readFileSync(`/proc/${pid}/cmdline`, 'latin1')));
    expect(mariadbd).toHaveLength(1);
    const datadir = /--datadir=([^\0]+)/.exec(readFileSync(`/proc/${mariadbd[0]}/cmdline`, 'latin1'))?.[1];
    expect(datadir).toBeDefined();
    expect(existsSync(datadir!)).toBe(true);
    const answers = await Promise.all(Array.from({ length: 10 }, () => get(server!.port)));
    expect(answers).toEqual(Array(10).fill({ status: 200, body: '1' }));
    expect(await server.stop(30_000)).toBe(0);
    expect(alive(mariadbd[0]!)).toBe(false);
    expect(existsSync(datadir!)).toBe(false);
  }, 120_000);

  it('answers 1,000 requests, 10 at a time, with the value of SELECT 1 and leaks no fd', async () => {
    const { server } = await start();
    const before = fdCount(server.pid);
    const answers: Answer[] = [];
    for (let batch = 0; batch < 100; batch++) {
      answers.push(...(await Promise.all(Array.from({ length: 10 }, () => get(server.port)))));
    }
    expect(answers.filter((a) => a.status !== 200 || a.body !== '1')).toEqual([]);
    expect(await settledFdCount(server.pid, before)).toBe(before);
    expect(await server.stop()).toBe(0);
  }, 120_000);

  it('answers 502 or closes once the database is killed under load, hangs nothing, and closes the dead connections', async () => {
    const { db, server } = await start();
    const before = fdCount(server.pid);
    // Load running while the database dies.
    let stop = false;
    const answers: Answer[] = [];
    const clients = Array.from({ length: 10 }, async () => {
      while (!stop) answers.push(await get(server.port));
    });
    await new Promise((r) => setTimeout(r, 300));
    process.kill(db.pid, 'SIGKILL');
    await db.exited;
    await new Promise((r) => setTimeout(r, 300));
    stop = true;
    await Promise.all(clients);
    // Before the kill: 200 "1"; after: 502 (or a close without reply for a
    // request caught at the moment of the kill); never a hang.
    expect(answers.filter((a) => a.status === -1)).toEqual([]);
    expect(answers.filter((a) => !(a.status === 200 && a.body === '1') && a.status !== 502 && a.status !== 0)).toEqual([]);
    expect(answers.some((a) => a.status === 200)).toBe(true);
    const after = await Promise.all(Array.from({ length: 20 }, () => get(server.port)));
    expect(after.map((a) => a.status)).toEqual(Array(20).fill(502));
    // The 10 pool connections are gone; nothing else is left open.
    expect(await settledFdCount(server.pid, before - 10)).toBe(before - 10);
    expect(await server.stop()).toBe(0);
  }, 120_000);
});
