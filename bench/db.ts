// The database round-trip benchmark: hello world plus one `SELECT 1` per
// request through a pool of 10 connections, the seed study's second
// experiment. A throwaway MariaDB (support/mariadb.ts) serves every server
// of the comparison, all started side by side:
//
//   reactor     examples/hello-db.ts: the reactor on raw fds, mysql2 over ReactorSocket
//   node:net    bench/servers/net-db.ts: node:net, mysql2 on its own node:net sockets
//   node:http   bench/servers/http-db.ts: node:http, the same pool
//   c-epoll     bench/c/hello_db.c: one epoll loop, libmariadb's non-blocking API (the limit)
//
// The classic workload (a new connection per request, 10 in flight) from the
// embedded load generator (or ab), the server under test pinned to CPU 0,
// the load generator and MariaDB to CPU 1. Each Node server is warmed with
// 20,000 requests first (the JIT is still settling before that); then the
// counted runs go round the servers, rotating the order. Reported per server:
// its own CPU µs per request and MariaDB's CPU µs per request over the same
// run (what the server asked of the database), medians, and each as a
// ratio to the C server.
//
//   node dist/bench/db.js [--requests 20000] [--runs 5] [--warmup 20000] [--loadgen embedded|ab] [--servers reactor,node:net]
import { execFileSync } from 'node:child_process';
import { realpathSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { compileC, packageRoot } from './build-c.js';
import { runLoad, type LoadgenName } from './lib/load.js';
import { mariaDbMissing, startMariaDb, type MariaDb } from '../support/mariadb.js';
import { commandLine, oneOf, positiveInt as int } from '../support/options.js';
import { startServer, type ServerProcess } from '../support/proc.js';
import { measureRounds } from './lib/rounds.js';
import { fmt, ratio, summarize } from './lib/stats.js';

const SERVER_CPU = 0;
const CLIENT_CPU = 1;
export const C_DB_SERVER = 'c-epoll + libmariadb';

export interface DbBenchOptions {
  requests: number;
  runs: number;
  warmup: number;
  concurrency: number;
  loadgen: LoadgenName;
  servers?: string[];
  /** How the servers' and MariaDB's CPU time is read (default: proc.ts's cpuTimeUs). */
  clock?: (pid: number) => number;
  /** Progress lines (stderr by default). */
  log?: (line: string) => void;
}

interface DbServer {
  name: string;
  /** For the chart's colour, as in the hello-world chart. */
  kind: 'C' | 'reactor' | 'Node';
  command: (db: MariaDb) => Promise<[string, string[]]>;
}

/** The C server's compiler and linker flags, from libmariadb-dev's mariadb_config. */
function mariadbConfig(): { flags: string[]; libs: string[] } {
  const out = (arg: string) => execFileSync('mariadb_config', [arg], { encoding: 'utf8' }).trim().split(/\s+/);
  return { flags: ['-O2', '-Wall', '-Wextra', ...out('--cflags')], libs: out('--libs') };
}

function dbServers(): DbServer[] {
  const root = packageRoot();
  const dbArgs = (db: MariaDb) => ['--db-host', db.host, '--db-port', String(db.port), '--user', db.user, '--password', db.password, '--database', db.database];
  const node = (script: string) => async (db: MariaDb): Promise<[string, string[]]> => [
    process.execPath,
    [join(root, 'dist', script), '--port', '0', ...dbArgs(db)],
  ];
  return [
    {
      name: C_DB_SERVER,
      kind: 'C',
      command: async (db) => {
        let config;
        try {
          config = mariadbConfig();
        } catch {
          throw new Error('mariadb_config is missing (Debian: apt-get install libmariadb-dev)');
        }
        return [await compileC('hello_db', config), ['--port', '0', ...dbArgs(db)]];
      },
    },
    { name: 'reactor + mysql2 (ReactorSocket)', kind: 'reactor', command: node('examples/hello-db.js') },
    { name: 'node:net + mysql2', kind: 'Node', command: node('bench/servers/net-db.js') },
    { name: 'node:http + mysql2', kind: 'Node', command: node('bench/servers/http-db.js') },
  ];
}

export interface DbRow {
  name: string;
  kind: string;
  cpuUsPerRequest: number[];
  dbCpuUsPerRequest: number[];
  requestsPerSecond: number[];
  failed: number;
}

export interface DbReport {
  rows: DbRow[];
  skipped: string[];
  markdown: string;
}

/** Runs the comparison and returns its table; a missing MariaDB is a
 * one-line skip, not a failure. */
export async function runDbBench(options: DbBenchOptions): Promise<DbReport> {
  const log = options.log ?? ((line: string) => process.stderr.write(`[db] ${line}\n`));
  const missing = mariaDbMissing();
  if (missing !== undefined) return { rows: [], skipped: [`database round trip: ${missing}`], markdown: `Skipped: ${missing}.` };

  const skipped: string[] = [];
  const db = await startMariaDb({ cpu: CLIENT_CPU });
  log(`MariaDB (pid ${db.pid}) on 127.0.0.1:${db.port}`);
  const running: Array<{ server: ServerProcess; row: DbRow }> = [];
  try {
    for (const spec of dbServers().filter((s) => options.servers === undefined || options.servers.some((w) => s.name.startsWith(w)))) {
      try {
        const [cmd, args] = await spec.command(db);
        const server = await startServer(cmd, args, { cpu: SERVER_CPU, timeoutMs: 30_000 });
        running.push({ server, row: { name: spec.name, kind: spec.kind, cpuUsPerRequest: [], dbCpuUsPerRequest: [], requestsPerSecond: [], failed: 0 } });
        log(`started ${spec.name} (pid ${server.pid}) at ${server.url}`);
      } catch (err) {
        skipped.push(`${spec.name}: ${(err as Error).message.split('\n')[0]}`);
        log(`skipped ${spec.name}: ${(err as Error).message.split('\n')[0]}`);
      }
    }
    const subjects = running.map((r) => ({
      ...r,
      name: r.row.name,
      // The server's CPU time, and MariaDB's over the same run.
      pids: [r.server.pid, db.pid],
      load: (requests: number) =>
        runLoad(options.loadgen, { url: r.server.url, requests, concurrency: options.concurrency, durationS: 3, cpu: CLIENT_CPU, timeoutS: Math.ceil(30 + requests / 200) }),
    }));
    await measureRounds(subjects, {
      runs: options.runs,
      requests: options.requests,
      warmup: options.warmup,
      clock: options.clock,
      log,
      onSample: ({ row }, { run, load: r, cpuUsPerRequest: [cpu, dbCpu], valid }) => {
        const bad = r.failed + r.non200 + r.unfinished;
        row.failed += bad;
        if (valid) {
          row.cpuUsPerRequest.push(cpu!);
          row.dbCpuUsPerRequest.push(dbCpu!);
          row.requestsPerSecond.push(r.requestsPerSecond);
        }
        log(`${row.name} run ${run}/${options.runs}: ${fmt(cpu!)} µs/req, MariaDB ${fmt(dbCpu!)} µs/req, ${fmt(r.requestsPerSecond)} req/s${bad ? `, INVALID: ${bad} failed` : ''}`);
      },
    });
  } finally {
    await Promise.all(running.map(({ server }) => server.stop()));
    await db.stop();
  }
  const rows = running.map((r) => r.row);
  return { rows, skipped, markdown: table(rows, options, skipped) };
}

function table(rows: DbRow[], options: DbBenchOptions, skipped: string[]): string {
  const med = (xs: number[]) => summarize(xs).median;
  const ref = rows.find((r) => r.name === C_DB_SERVER);
  const refCpu = ref ? med(ref.cpuUsPerRequest) : NaN;
  const refDb = ref ? med(ref.dbCpuUsPerRequest) : NaN;
  const lines = [
    `Hello world + \`SELECT 1\` through a pool of 10 MariaDB connections per request: ${options.requests.toLocaleString('en-US')} requests per run, ` +
      `${options.concurrency} in flight, a new connection per request, load generator: ${options.loadgen}; server on CPU ${SERVER_CPU}, ` +
      `load generator and MariaDB on CPU ${CLIENT_CPU}; ${options.warmup.toLocaleString('en-US')} warm-up requests per server, then ${options.runs} runs interleaved; medians of valid runs.`,
    '',
    '| server | CPU µs/request | min–max | × C | MariaDB CPU µs/request | × C | requests/s | valid runs | failed |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const r of rows) {
    const cpu = summarize(r.cpuUsPerRequest);
    lines.push(
      `| ${r.name} | ${fmt(cpu.median)} | ${fmt(cpu.min)}–${fmt(cpu.max)} | ${ratio(cpu.median, refCpu)} | ${fmt(med(r.dbCpuUsPerRequest))} | ${ratio(med(r.dbCpuUsPerRequest), refDb)} ` +
        `| ${fmt(med(r.requestsPerSecond))} | ${r.cpuUsPerRequest.length}/${options.runs} | ${r.failed} |`,
    );
  }
  for (const s of skipped) lines.push('', `Skipped: ${s}`);
  return lines.join('\n');
}

async function main(): Promise<void> {
  const cli = commandLine('db', 'npm run bench:db [-- options]\n       node dist/bench/db.js [options]', {
    requests: { type: 'string', default: '20000', arg: 'N', help: 'requests per counted run' },
    runs: { type: 'string', default: '5', arg: 'R', help: 'counted runs per server' },
    warmup: { type: 'string', default: '20000', arg: 'N', help: 'warm-up requests per server' },
    concurrency: { type: 'string', default: '10', arg: 'C', help: 'requests in flight' },
    loadgen: { type: 'string', default: 'embedded', arg: 'NAME', help: 'the load generator: embedded or ab' },
    servers: { type: 'string', arg: 'A,B', help: 'only the servers whose names start so: reactor, node:net, node:http, c-epoll (default: all)' },
  });
  const { values } = cli;
  const options = cli.check(() => ({
    requests: int('requests', values.requests),
    runs: int('runs', values.runs),
    warmup: int('warmup', values.warmup),
    concurrency: int('concurrency', values.concurrency),
    loadgen: oneOf('loadgen', values.loadgen, ['embedded', 'ab']),
    servers: values.servers?.split(','),
  }));
  const report = await runDbBench(options);
  console.log(`\n${report.markdown}`);
}

// Run as a program (node dist/bench/db.js), not when run.ts imports it.
if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === realpathSync(process.argv[1])) {
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
