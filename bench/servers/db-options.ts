// What the database comparison servers share: the options of
// examples/hello-db.ts (--host/--port/--user/--password/--database name the
// database; the HTTP server listens on --listen-host/--listen-port), the
// mysql2 pool they all use (the same settings, the transport aside), its
// warm-up before listening, and the replies.
import mysql from 'mysql2';
import { parseArgs } from 'node:util';
import { DB_OPTIONS, portNumber } from '../../examples/db-options.js';

export interface DbServerOptions {
  listenHost: string;
  listenPort: number;
  pool: mysql.PoolOptions;
}

export function dbServerOptions(): DbServerOptions {
  const { values } = parseArgs({
    options: DB_OPTIONS,
  });
  return {
    listenHost: values['listen-host'],
    listenPort: portNumber(values['listen-port'], '--listen-port'),
    pool: {
      host: values.host,
      port: portNumber(values.port, '--port'),
      user: values.user,
      password: values.password,
      database: values.database || undefined,
      connectionLimit: Number(values.pool),
      rowsAsArray: true,
    },
  };
}

/** Opens every connection of the pool, so that measuring starts with queries, not logins. */
export async function warmPool(pool: mysql.Pool, size: number): Promise<void> {
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
