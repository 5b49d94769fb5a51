// The hello-world server with one database round trip per request: the
// reactor accepts and reads each HTTP request on raw fds, a pool of mysql2
// connections asks MariaDB (or MySQL) `SELECT 1`, and the reply carries the
// value. mysql2 runs unchanged over ReactorSocket, a node:stream Duplex whose
// fd the same reactor watches, so every socket of the process — listener,
// clients and database connections — sits in one selector.
//
//   npm run hello:db -- --db-host 127.0.0.1 --db-port 3306 --user root --password secret
//   npm run hello:db -- --start-db
//   node dist/examples/hello-db.js --port 0 --db-port 3306 ...
//
// --db-host/--db-port/--user/--password/--database name the database
// server. --start-db starts a throwaway MariaDB instead (support/mariadb.ts,
// as the tests do: Debian's mariadb-server, a temporary data directory, a
// free port of 127.0.0.1), which is stopped and removed when the server
// exits. When no database answers, it says what to run. The HTTP server listens on --host (127.0.0.1) and --port (8000; 0
// for any free port) and prints `listening on 127.0.0.1:PORT` once all
// --pool (10) connections are up. Each request is answered
// `HTTP/1.0 200 OK` with the value as its body, or `502 Bad Gateway` when the
// query fails (the database went away), and the connection is closed. It
// exits cleanly (status 0) on SIGINT or SIGTERM.
import mysql, { type Pool } from 'mysql2';
import { mariaDbMissing, startMariaDb, type MariaDb } from '../support/mariadb.js';
import { commandLine } from '../support/options.js';
import { backendClass, backendOption, DB_OPTIONS, dbSettings, warmPool } from '../support/servers.js';
import { createConnection, EVENT_READ, EVENT_WRITE, Reactor, sys } from '../lib/index.js';

const BAD_GATEWAY = new TextEncoder().encode('HTTP/1.0 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n');

const cli = commandLine('hello-db', 'npm run hello:db -- [options]\n       node dist/examples/hello-db.js [options]', {
  ...DB_OPTIONS,
  backend: backendOption("the reactor's"),
  'start-db': {
    type: 'boolean',
    default: false,
    help: 'start a throwaway MariaDB (mariadbd installed: Debian mariadb-server) on a free port instead of --db-*, --user, --password, --database; removed on exit',
  },
});
const { values } = cli;
const settings = dbSettings(values, cli.check);
const poolSize = settings.pool.connectionLimit!;
const Selector = backendClass(values.backend, cli.fail);

const reactor = new Reactor({ selector: new Selector() });
// Handlers fire from Node's own loop, beside mysql2's timers and Promises.
reactor.attach();
reactor.on('error', (err) => console.error('hello-db:', err));

/** The MariaDB started by --start-db, stopped when the server stops. */
let started: MariaDb | undefined;
let pool: Pool | undefined;
let stopping = false;

function createPool(db: { host: string; port: number; user?: string; password?: string; database?: string }): Pool {
  return mysql.createPool({
    user: db.user,
    password: db.password,
    database: db.database,
    connectionLimit: poolSize,
    rowsAsArray: true,
    // Each pool connection is a ReactorSocket; mysql2 sees a Duplex and
    // speaks its protocol over it unchanged.
    stream: () => createConnection(reactor, { host: db.host, port: db.port }).setNoDelay(true),
  });
}

// Every client fd between accept and close, so that a stop closes them all.
const open = new Set<number>();
const request = new Uint8Array(4096);
let listener = -1;

function ok(value: unknown): Uint8Array {
  const body = String(value);
  return new TextEncoder().encode(`HTTP/1.0 200 OK\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
}

function close(fd: number): void {
  reactor.removeHandler(fd);
  open.delete(fd);
  sys.close(fd);
}

// A fresh connection's send buffer takes a short reply whole; if it ever
// does not (-1), the rest waits for EVENT_WRITE.
function reply(fd: number, bytes: Uint8Array, offset = 0): void {
  if (!open.has(fd)) return; // closed by a stop meanwhile
  try {
    const n = sys.send(fd, bytes, offset);
    if (n >= 0 && offset + n < bytes.length) return reply(fd, bytes, offset + n);
    if (n < 0) {
      const resume = (): void => {
        reactor.removeHandler(fd);
        reply(fd, bytes, offset);
      };
      reactor.addHandler(fd, resume, EVENT_WRITE);
      return;
    }
  } catch {
    // The client went away (ECONNRESET, EPIPE): nothing to answer.
  }
  close(fd);
}

function onRequest(fd: number): void {
  let n: number;
  try {
    n = sys.recv(fd, request);
  } catch {
    return close(fd);
  }
  if (n === -1) return; // woken for nothing: wait again
  if (n === 0) return close(fd); // closed before asking anything
  // One read is the whole request (ab and curl send it in one segment);
  // the fd needs no watching until the answer is sent.
  reactor.removeHandler(fd);
  pool!.query('SELECT 1', (err, rows) => {
    const row = (rows as unknown[][] | undefined)?.[0];
    reply(fd, err || row === undefined ? BAD_GATEWAY : ok(row[0]));
  });
}

function acceptAll(): void {
  for (;;) {
    const fd = sys.accept(listener);
    if (fd < 0) return;
    open.add(fd);
    reactor.addHandler(fd, onRequest, EVENT_READ);
  }
}

// Stops listening, closes every client, then the pool, then the MariaDB of
// --start-db; the reactor last, since the pool's sockets need it to close.
// A stop during start-up is finished by main() once the step under way is done.
function stop(): void {
  if (stopping) return;
  stopping = true;
  process.off('SIGINT', stop);
  process.off('SIGTERM', stop);
  if (listener >= 0) {
    reactor.removeHandler(listener);
    sys.close(listener);
    listener = -1;
  }
  for (const fd of [...open]) close(fd);
  const ended = pool === undefined ? Promise.resolve() : new Promise<void>((resolve) => pool!.end(() => resolve()));
  void ended.then(() => started?.stop()).then(() => reactor.close());
}

/** What to do when the database cannot be reached or refuses the login: one line. */
function nextStep(err: { code?: string }): string {
  if (err.code === 'ECONNREFUSED') {
    return 'no database server listens there: name one with --db-host/--db-port/--user/--password, or add --start-db to start a throwaway MariaDB (needs Debian mariadb-server)';
  }
  if (err.code === 'ER_ACCESS_DENIED_ERROR' || err.code === 'ER_ACCESS_DENIED_NO_PASSWORD_ERROR') {
    return "the database refused the login (a packaged MariaDB lets root in through its Unix socket only): create a user with a password and pass --user/--password, or add --start-db";
  }
  return '';
}

async function main(): Promise<void> {
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  if (values['start-db']) {
    const missing = mariaDbMissing();
    if (missing !== undefined) throw new Error(`--start-db: ${missing}`);
    started = await startMariaDb();
    console.error(`hello-db: started MariaDB on ${started.host}:${started.port} (data in ${started.dir}), removed on exit`);
    if (stopping) return void (await started.stop());
    pool = createPool(started);
  } else {
    pool = createPool({ ...settings.pool, host: settings.pool.host!, port: settings.pool.port! });
  }
  // Open every pool connection before listening, so that the first requests
  // measure queries rather than logins.
  await warmPool(pool, poolSize);
  if (stopping) return;

  const host = settings.listenHost;
  listener = sys.socket(host.includes(':') ? sys.AF_INET6 : sys.AF_INET, sys.SOCK_STREAM);
  sys.setsockopt(listener, sys.SOL_SOCKET, sys.SO_REUSEADDR, true);
  sys.bind(listener, host, settings.listenPort);
  sys.listen(listener, sys.SOMAXCONN);
  reactor.addHandler(listener, acceptAll, EVENT_READ);
  const bound = sys.getsockname(listener);
  if (!('port' in bound)) throw new Error('the listener has no IP address');
  // Harnesses start the server with --port 0 and read the port here.
  console.log(`listening on ${bound.address.includes(':') ? `[${bound.address}]` : bound.address}:${bound.port}`);
}

main().catch((err: Error & { code?: string }) => {
  const next = nextStep(err);
  console.error(`hello-db: ${err.message}${next ? `\nhello-db: ${next}` : ''}`);
  // Exit handlers stop a MariaDB of --start-db (support/mariadb.ts).
  process.exit(1);
});
