// A throwaway MariaDB server for the tests and the benchmarks: Debian's
// mariadb-server started by hand, without systemd or any my.cnf, in a
// temporary data directory, listening on 127.0.0.1 only, with one user who
// logs in with mysql_native_password. Stopping it kills its process group and
// removes the directory.
//
//   const db = await startMariaDb();
//   // db.host, db.port, db.user, db.password, db.database, db.pid
//   await db.stop();
//
// mariadb-install-db takes several seconds (most of it filling help tables),
// so its output is made once per machine and user into a template directory
// under the system's temp dir, and each server starts from a copy of it:
// a start then costs a copy of ~20 MB and the server's own start-up.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cp, mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { pinned } from './proc.js';

const SERVER_BINARIES = ['/usr/sbin/mariadbd', '/usr/bin/mariadbd', '/usr/local/bin/mariadbd'];
const INSTALL_BINARIES = ['/usr/bin/mariadb-install-db', '/usr/local/bin/mariadb-install-db'];

/** Where mariadbd is installed, or undefined. */
export function mariadbdPath(): string | undefined {
  return SERVER_BINARIES.find((p) => existsSync(p));
}

/** Why a MariaDB server cannot be started here (one line), or undefined when it can. */
export function mariaDbMissing(): string | undefined {
  if (mariadbdPath() === undefined) return 'mariadbd is not installed (Debian: apt-get install mariadb-server)';
  if (INSTALL_BINARIES.every((p) => !existsSync(p))) return 'mariadb-install-db is not installed (Debian: apt-get install mariadb-server)';
  return undefined;
}

/** A test suite's title, with the reason appended when the suite is skipped
 * because mariaDbMissing() says why. */
export function withMariaDb(title: string): string {
  const missing = mariaDbMissing();
  return missing === undefined ? title : `${title} (skipped: ${missing})`;
}

export interface MariaDbOptions {
  /** Pin the server to this CPU (with taskset, when it is installed). */
  cpu?: number;
  /** How long to wait for `ready for connections` (ms); default 60 s. */
  timeoutMs?: number;
}

export interface MariaDb {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly password: string;
  /** An empty database the user owns. */
  readonly database: string;
  /** mariadbd's own pid, for its CPU time and for killing it. */
  readonly pid: number;
  readonly child: ChildProcess;
  /** The temporary directory holding the data, the socket and the pid file. */
  readonly dir: string;
  /** Resolves when mariadbd has exited (with its code, or null after a signal). */
  readonly exited: Promise<number | null>;
  /** SIGTERM to the process group, SIGKILL after `graceMs`; then removes the
   * directory. Idempotent. */
  stop(graceMs?: number): Promise<void>;
}

const USER = 'selectors';
const PASSWORD = 'selectors-test';
const DATABASE = 'selectors';

// Settings for a disposable server: small buffers, no durability (nothing
// here outlives the run), no name lookups, no binary log.
const SERVER_ARGS = [
  '--skip-name-resolve',
  '--skip-log-bin',
  '--innodb-buffer-pool-size=32M',
  '--innodb-log-file-size=16M',
  '--innodb-flush-log-at-trx-commit=0',
  '--innodb-doublewrite=0',
  '--innodb-flush-method=nosync',
  '--max-connections=500',
  '--max-allowed-packet=64M',
  '--log-warnings=1',
];

// mariadbd refuses to run as root unless told to.
const asUser = (): string[] => (process.getuid?.() === 0 ? ['--user=root'] : []);

let templatePromise: Promise<string> | undefined;

/** The data directory mariadb-install-db makes, built once per machine, user
 * and server version, and reused read-only as the source of every copy. */
function template(): Promise<string> {
  templatePromise ??= makeTemplate();
  return templatePromise;
}

async function makeTemplate(): Promise<string> {
  const server = mariadbdPath()!;
  const version = spawnSync(server, ['--version'], { encoding: 'utf8' }).stdout.trim().split(/\s+/)[2] ?? 'unknown';
  const uid = process.getuid?.() ?? 0;
  const target = join(tmpdir(), `node-selectors-mariadb-${uid}-${version.replace(/[^\w.-]/g, '_')}`);
  if (existsSync(join(target, 'mysql', 'user.frm')) || existsSync(join(target, 'mysql', 'global_priv.frm'))) return target;

  // Build beside the target and rename, so that a concurrent process never
  // copies a half-built directory; the loser of a race keeps the winner's.
  const partial = await mkdtemp(`${target}.partial-`);
  try {
    const install = INSTALL_BINARIES.find((p) => existsSync(p))!;
    const out = spawnSync(
      install,
      [
        '--no-defaults',
        `--datadir=${partial}`,
        '--auth-root-authentication-method=normal',
        '--skip-test-db',
        ...asUser(),
        ...SERVER_ARGS,
      ],
      { encoding: 'utf8', timeout: 120_000 },
    );
    if (out.status !== 0) {
      throw new Error(`mariadb-install-db failed (${out.status ?? out.signal ?? out.error?.message}):\n${out.stdout}${out.stderr}`);
    }
    try {
      await rename(partial, target);
    } catch (err) {
      if (!existsSync(target)) throw err;
    }
  } finally {
    await rm(partial, { recursive: true, force: true });
  }
  return target;
}

/** A free TCP port on 127.0.0.1 (free when asked: the caller retries if
 * something else takes it first). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address !== null ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

// Servers still running when this process exits are killed then, so that a
// crashed test run leaves no mariadbd behind.
const live = new Set<{ pid: number; dir: string }>();
let exitHookInstalled = false;
function killOnExit(entry: { pid: number; dir: string }): void {
  live.add(entry);
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const { pid, dir } of live) {
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {
        /* already gone */
      }
      spawnSync('rm', ['-rf', dir]);
    }
  });
}

/** Starts a new MariaDB server on a free port of 127.0.0.1 and resolves once
 * it accepts connections and the user exists. */
export async function startMariaDb(options: MariaDbOptions = {}): Promise<MariaDb> {
  const missing = mariaDbMissing();
  if (missing !== undefined) throw new Error(missing);
  const source = await template();
  for (let attempt = 1; ; attempt++) {
    try {
      return await startFrom(source, options);
    } catch (err) {
      // Another process may have taken the port between freePort() and the
      // server's bind: try again on a new one.
      if (attempt >= 3 || !(err instanceof Error) || !/Address already in use|Do you already have another/.test(err.message)) throw err;
    }
  }
}

async function startFrom(source: string, options: MariaDbOptions): Promise<MariaDb> {
  const dir = await mkdtemp(join(tmpdir(), 'node-selectors-mariadb-'));
  const datadir = join(dir, 'data');
  await cp(source, datadir, { recursive: true });
  // Run once at start-up, before the server accepts anyone: the user the
  // clients log in as, with the classic mysql_native_password method.
  const initFile = join(dir, 'init.sql');
  await writeFile(
    initFile,
    [
      `CREATE DATABASE IF NOT EXISTS ${DATABASE};`,
      `CREATE USER IF NOT EXISTS '${USER}'@'127.0.0.1' IDENTIFIED VIA mysql_native_password USING PASSWORD('${PASSWORD}');`,
      `GRANT ALL PRIVILEGES ON *.* TO '${USER}'@'127.0.0.1';`,
      '',
    ].join('\n'),
  );
  const port = await freePort();
  const args = [
    '--no-defaults',
    `--datadir=${datadir}`,
    `--socket=${join(dir, 'mysqld.sock')}`,
    `--pid-file=${join(dir, 'mysqld.pid')}`,
    `--port=${port}`,
    '--bind-address=127.0.0.1',
    `--init-file=${initFile}`,
    ...asUser(),
    ...SERVER_ARGS,
  ];
  const [cmd, argv] = pinned(options.cpu, mariadbdPath()!, args);
  // Its own process group, so that stop() reaches every process it starts.
  const child = spawn(cmd, argv, { stdio: ['ignore', 'ignore', 'pipe'], detached: true });
  const entry = { pid: child.pid ?? -1, dir };
  if (child.pid !== undefined) killOnExit(entry);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  let stopped: Promise<void> | undefined;
  const stop = (graceMs = 10_000): Promise<void> => {
    stopped ??= (async () => {
      if (child.exitCode === null && child.signalCode === null) {
        try {
          process.kill(-child.pid!, 'SIGTERM');
        } catch {
          /* already gone */
        }
        const timer = setTimeout(() => {
          try {
            process.kill(-child.pid!, 'SIGKILL');
          } catch {
            /* already gone */
          }
        }, graceMs);
        await exited;
        clearTimeout(timer);
      }
      live.delete(entry);
      await rm(dir, { recursive: true, force: true });
    })();
    return stopped;
  };

  const log: string[] = [];
  try {
    await new Promise<void>((resolve, reject) => {
      const timeoutMs = options.timeoutMs ?? 60_000;
      const timer = setTimeout(() => reject(new Error(`mariadbd: not ready within ${timeoutMs} ms:\n${log.join('\n')}`)), timeoutMs);
      child.once('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
      void exited.then((code) => {
        clearTimeout(timer);
        reject(new Error(`mariadbd exited (${code}) before it was ready:\n${log.join('\n')}`));
      });
      const lines = createInterface({ input: child.stderr! });
      lines.on('line', (line) => {
        if (log.length < 200) log.push(line);
        if (/ready for connections/.test(line)) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
  } catch (err) {
    await stop(2_000);
    throw err;
  }
  child.stderr!.resume(); // keep draining the log
  return { host: '127.0.0.1', port, user: USER, password: PASSWORD, database: DATABASE, pid: child.pid!, child, dir, exited, stop };
}
