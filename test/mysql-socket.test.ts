// mysql2 over ReactorSocket against a real MariaDB (started here, on
// 127.0.0.1, in a temporary directory): SELECT 1, a parameterised round
// trip of 10,000 rows compared byte for byte, a syntax error as mysql2
// reports it, and the server killed in the middle of a query.
import { once } from 'node:events';
import mysql, { type Pool } from 'mysql2';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createConnection, Reactor } from '../lib/index.js';
import { mariaDbMissing, startMariaDb, withMariaDb, type MariaDb } from '../support/mariadb.js';
import { fdsOpenedSince } from './fds.js';
import { defaultBackend, kqueueLimit, openFds } from './helpers.js';

describe.skipIf(mariaDbMissing() !== undefined)(withMariaDb('mysql2 over ReactorSocket'), () => {
  let db: MariaDb;
  let reactor: Reactor;
  let pool: Pool | undefined;

  beforeAll(async () => {
    db = await startMariaDb();
  }, 120_000);
  afterAll(async () => {
    await db?.stop();
  });
  afterEach(async () => {
    await new Promise<void>((r) => (pool ? pool.end(() => r()) : r()));
    pool = undefined;
    reactor?.close();
  });

  function open(target: MariaDb = db): Pool {
    reactor = new Reactor();
    reactor.attach();
    pool = mysql.createPool({
      user: target.user,
      password: target.password,
      database: target.database,
      connectionLimit: 10,
      stream: () => createConnection(reactor, { host: target.host, port: target.port }),
    });
    return pool;
  }

  it('runs SELECT 1 over the reactor socket', async () => {
    const p = open().promise();
    const [rows] = await p.query('SELECT 1 AS one');
    expect(rows).toEqual([{ one: 1 }]);
    // The connection really is ours: its stream is a ReactorSocket.
    const conn = await p.getConnection();
    expect((conn.connection as unknown as { stream: { constructor: { name: string } } }).stream.constructor.name).toBe('ReactorSocket');
    conn.release();
  });

  it('inserts 10,000 rows with parameters and reads them back byte-exact', async () => {
    const p = open().promise();
    await p.query('CREATE TABLE round_trip (id INT PRIMARY KEY, label VARCHAR(64) CHARACTER SET utf8mb4, data VARBINARY(1024))');
    // Every byte value, UTF-8 beyond the BMP, and lengths from 0 to 1,000.
    const rows = Array.from({ length: 10_000 }, (_, i) => {
      const data = Buffer.alloc((i * 7) % 1001);
      for (let j = 0; j < data.length; j++) data[j] = (i + j * 31) & 0xff;
      return [i, `row ${i} ✓ 𝄞 ${'é'.repeat(i % 20)}`, data] as const;
    });
    // Parameterised, in batches of 1,000 rows per statement.
    for (let i = 0; i < rows.length; i += 1000) {
      await p.query('INSERT INTO round_trip (id, label, data) VALUES ?', [rows.slice(i, i + 1000)]);
    }
    // Prepared statements too: one row through execute().
    const [one] = await p.execute('SELECT label, data FROM round_trip WHERE id = ?', [4242]);
    expect(one).toEqual([{ label: rows[4242]![1], data: rows[4242]![2] }]);
    const [back] = (await p.query('SELECT id, label, data FROM round_trip ORDER BY id')) as unknown as [
      Array<{ id: number; label: string; data: Buffer }>,
    ];
    expect(back).toHaveLength(10_000);
    for (let i = 0; i < rows.length; i++) {
      const [id, label, data] = rows[i]!;
      const got = back[i]!;
      if (got.id !== id || got.label !== label || !got.data.equals(data)) {
        expect({ i, got }).toEqual({ i, got: { id, label, data } });
      }
    }
    await p.query('DROP TABLE round_trip');
  });

  it("rejects a syntax error with mysql2's error and code, and the connection goes on", async () => {
    const p = open().promise();
    const err = (await p.query('SELEC 1').catch((e: unknown) => e)) as Error & { code: string; errno: number; sqlState: string; fatal?: boolean };
    expect(err).toBeInstanceOf(Error);
    expect(err.code).toBe('ER_PARSE_ERROR');
    expect(err.errno).toBe(1064);
    expect(err.sqlState).toBe('42000');
    expect(err.fatal).toBeFalsy();
    const [rows] = await p.query('SELECT 2 AS two');
    expect(rows).toEqual([{ two: 2 }]);
  });

  // The refused reconnect is read from SO_ERROR, which libkqueue consumes (R4).
  it.skipIf(kqueueLimit(defaultBackend(), 'kqueueEatsSoError'))('reports the server killed mid-query to the pool, hangs nothing and leaks no fd', async () => {
    const victim = await startMariaDb();
    try {
      // After the reactor exists (its own fds stay open until afterEach),
      // before any connection.
      const p = open(victim).promise();
      const before = openFds();
      await p.query('SELECT 1');
      // Queries in flight on several connections when the server dies.
      const inFlight = Array.from({ length: 4 }, () => p.query('SELECT SLEEP(30)').then(() => null, (e: Error & { code?: string; fatal?: boolean }) => e));
      await new Promise((r) => setTimeout(r, 200));
      process.kill(victim.pid, 'SIGKILL');
      await victim.exited;
      const started = Date.now();
      const errors = await Promise.all(inFlight);
      expect(Date.now() - started).toBeLessThan(5000);
      for (const err of errors) {
        expect(err).toBeInstanceOf(Error);
        expect(err!.fatal).toBe(true);
        expect(['PROTOCOL_CONNECTION_LOST', 'ECONNRESET']).toContain(err!.code);
      }
      // A new query needs a new connection, which the dead server refuses.
      const again = (await p.query('SELECT 1').catch((e: unknown) => e)) as NodeJS.ErrnoException;
      expect(again.code).toBe('ECONNREFUSED');
      await new Promise<void>((r) => pool!.end(() => r()));
      pool = undefined;
      // Every socket is closed and unwatched: no fd opened since is left
      // (fds of the fixture may close meanwhile; that is no leak).
      expect(await fdsOpenedSince(before)).toEqual([]);
      expect(reactor.selector.getMap().size).toBe(0);
    } finally {
      await victim.stop();
    }
  }, 60_000);

  it('a single connection (createConnection with a stream) ends cleanly', async () => {
    reactor = new Reactor();
    reactor.attach();
    const stream = createConnection(reactor, { host: db.host, port: db.port });
    const conn = mysql.createConnection({ user: db.user, password: db.password, database: db.database, stream });
    const [rows] = await conn.promise().query('SELECT CONNECTION_ID() > 0 AS ok');
    expect(rows).toEqual([{ ok: 1 }]);
    const closed = once(stream, 'close');
    await conn.promise().end();
    await closed;
    expect(stream.destroyed).toBe(true);
    expect(reactor.selector.getMap().size).toBe(0);
  });
});
