// What the hello servers share, examples/hello-db.ts and the comparison
// servers of bench/servers/: their command-line options (--host/--port, the
// address they listen on, and for the database ones --db-host/--db-port and
// the rest of the options of examples/hello-db.ts), read as a command-line
// tool reads them (support/options.ts: --help, exit 2 on a bad option); the
// `listening on` line harnesses wait for, and a clean exit on SIGINT/SIGTERM;
// the database servers' mysql2 pool (the same settings, the transport
// aside), its warm-up before listening, and their replies. mysql2 is
// imported for its types only, so that the servers without a database do
// not load it.
import type { Pool, PoolOptions } from 'mysql2';
import type { Server } from 'node:net';
import { basename } from 'node:path';
import { availableBackends, type BackendName, DefaultSelector, selectorClass, type SelectorClass } from '../lib/index.js';
import { commandLine, portNumber, positiveInt, type OptionSpecs } from './options.js';

/** --host and --port: the address a server listens on, `port` by default. */
export function listenOptions<const P extends string>(port: P) {
  return {
    host: { type: 'string', default: '127.0.0.1', arg: 'HOST', help: 'address to listen on' },
    port: { type: 'string', default: port, arg: 'PORT', help: 'port to listen on; 0: any free one' },
  } as const satisfies OptionSpecs;
}

/** The options of every hello server: the address it listens on. */
export const LISTEN_OPTIONS = listenOptions('8000');

/** --backend: the selector a demo runs on (`whose`: "the", "the reactor's"). */
export function backendOption(whose: string) {
  return {
    type: 'string',
    default: 'default',
    arg: 'NAME',
    help: `${whose} selector: default (DefaultSelector, the best one here), select, poll, epoll, kqueue or io_uring`,
  } as const satisfies OptionSpecs[string];
}

/** The selector class --backend names; `fail` (CommandLine.fail) refuses a
 * backend this machine does not have. */
export function backendClass(name: string, fail: (message: string) => never): SelectorClass {
  if (name === 'default') return DefaultSelector;
  if (!availableBackends().includes(name as BackendName)) {
    fail(`backend '${name}' is not available here (available: ${availableBackends().join(', ')}, default)`);
  }
  return selectorClass(name as BackendName);
}

/** The command line of `node dist/SCRIPT [options]`, named after SCRIPT. */
function scriptCommandLine<const O extends OptionSpecs>(script: string, options: O) {
  return commandLine(basename(script, '.js'), `node dist/${script} [options]`, options);
}

/** --host, --port and --keep-alive (answer every request of a kept
 * connection instead of one request per connection), the options of the
 * program `node dist/SCRIPT`. */
export function serverOptions(script: string): { host: string; port: number; keepAlive: boolean } {
  const cli = scriptCommandLine(script, {
    ...LISTEN_OPTIONS,
    'keep-alive': { type: 'boolean', default: false, help: 'answer every request of a kept connection (HTTP/1.1) instead of one per connection' },
  });
  const { values } = cli;
  return { host: values.host, port: cli.check(() => portNumber('port', values.port)), keepAlive: values['keep-alive'] };
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

/** The command-line options every database hello server shares: the HTTP
 * server listens on --host and --port; --db-host/--db-port/--user/
 * --password/--database name the database; --pool connections are opened. */
export const DB_OPTIONS = {
  ...LISTEN_OPTIONS,
  'db-host': { type: 'string', default: '127.0.0.1', arg: 'HOST', help: "the database server's address" },
  'db-port': { type: 'string', default: '3306', arg: 'PORT', help: "the database server's port" },
  user: { type: 'string', default: 'root', arg: 'USER', help: 'the database user' },
  password: { type: 'string', default: '', arg: 'PASSWORD', help: "the database user's password" },
  database: { type: 'string', default: '', arg: 'NAME', help: 'the database to use' },
  pool: { type: 'string', default: '10', arg: 'N', help: 'database connections, all opened before listening' },
} as const satisfies OptionSpecs;

export interface DbServerOptions {
  listenHost: string;
  listenPort: number;
  pool: PoolOptions;
}

/** The values of DB_OPTIONS, checked: what a database server listens on
 * and its pool's settings; `check` refuses a bad one (CommandLine.check). */
export function dbSettings(
  values: { host: string; port: string; 'db-host': string; 'db-port': string; user: string; password: string; database: string; pool: string },
  check: <T>(fn: () => T) => T,
): DbServerOptions {
  return check(() => ({
    listenHost: values.host,
    listenPort: portNumber('port', values.port),
    pool: {
      host: values['db-host'],
      port: portNumber('db-port', values['db-port']),
      user: values.user,
      password: values.password,
      database: values.database || undefined,
      connectionLimit: positiveInt('pool', values.pool),
      rowsAsArray: true,
    },
  }));
}

/** DB_OPTIONS, the options of the database server `node dist/SCRIPT`. */
export function dbServerOptions(script: string): DbServerOptions {
  const cli = scriptCommandLine(script, DB_OPTIONS);
  return dbSettings(cli.values, cli.check);
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
