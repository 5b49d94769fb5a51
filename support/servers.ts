// What the hello servers share, examples/hello-db.ts and the comparison
// servers of bench/servers/: --host/--port, or for the database ones the
// options of examples/hello-db.ts; the `listening on` line harnesses wait
// for, and a clean exit on SIGINT/SIGTERM; the database servers' mysql2 pool
// (the same settings, the transport aside), its warm-up before listening,
// and their replies. mysql2 is imported for its types only, so that the
// servers without a database do not load it.
import type { Pool, PoolOptions } from 'mysql2';
import type { Server } from 'node:net';
import { parseArgs } from 'node:util';
import { portNumber } from './options.js';

/** --host, --port and --keep-alive (answer every request of a kept
 * connection instead of one request per connection). */
export function serverOptions(): { host: string; port: number; keepAlive: boolean } {
  const { values } = parseArgs({
    options: {
      host: { type: 'string', default: '127.0.0.1' },
      port: { type: 'string', default: '8000' },
      'keep-alive': { type: 'boolean', default: false },
    },
  });
  return { host: values.host, port: portNumber('port', values.port), keepAlive: values['keep-alive'] };
}

export function announce(server: Server): void {
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('not an IP server');
  const host = address.address.includes(':') ? `[${address.address}]` : address.address;
  console.log(`listening on ${host}:${address.port}`);
  // Connections last one request each, or are kept by a load generator
  // that is done by now: exiting drops none that matter.
  const stop = () => {
    server.close();
    process.exit(0);
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

/** The command-line options every database hello server shares:
 * --host/--port/--user/--password/--database name the database; the HTTP
 * server listens on --listen-host and --listen-port; --pool connections are
 * opened. */
export const DB_OPTIONS = {
  host: { type: 'string', default: '127.0.0.1' },
  port: { type: 'string', default: '3306' },
  user: { type: 'string', default: 'root' },
  password: { type: 'string', default: '' },
  database: { type: 'string', default: '' },
  'listen-host': { type: 'string', default: '127.0.0.1' },
  'listen-port': { type: 'string', default: '8000' },
  pool: { type: 'string', default: '10' },
} as const;

export interface DbServerOptions {
  listenHost: string;
  listenPort: number;
  pool: PoolOptions;
}

export function dbServerOptions(): DbServerOptions {
  const { values } = parseArgs({
    options: DB_OPTIONS,
  });
  return {
    listenHost: values['listen-host'],
    listenPort: portNumber('listen-port', values['listen-port']),
    pool: {
      host: values.host,
      port: portNumber('port', values.port),
      user: values.user,
      password: values.password,
      database: values.database || undefined,
      connectionLimit: Number(values.pool),
      rowsAsArray: true,
    },
  };
}

/** Opens every connection of the pool, so that measuring starts with queries, not logins. */
export async function warmPool(pool: Pool, size: number): Promise<void> {
  const connections = await Promise.all(Array.from({ length: size }, () => pool.promise().getConnection()));
  for (const c of connections) c.release();
}

export const BAD_GATEWAY = Buffer.from('HTTP/1.0 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n');

/** The whole HTTP/1.0 reply carrying `value`, or 502 when the query failed. */
export function replyTo(err: unknown, rows: unknown): Buffer {
  const row = (rows as unknown[][] | undefined)?.[0];
  if (err || row === undefined) return BAD_GATEWAY;
  const body = String(row[0]);
  return Buffer.from(`HTTP/1.0 200 OK\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
}
