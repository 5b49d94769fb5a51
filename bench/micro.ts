// Selector micro-benchmarks, each against bench/c/selectbench.c doing the
// same syscalls in the same loop, run side by side (JS and C alternate, rep
// after rep, so drift on a shared machine hits both alike):
//
//   select     one select() with 1 ready fd among NFDS registered fds (the
//              rest idle), making the fd ready and draining it each time
//              (Kerrisk's method): the C10K curve, NFDS = 1 .. 10,000
//   selectRaw  the same through the allocation-free selectRaw()
//   register   one register + unregister pair, NFDS - 1 idle fds registered
//   modify     one modify that changes the events (so it reaches the kernel)
//
// Cost is CPU time per operation (the process's utime + stime), which other
// load on the machine inflates far less than wall time. Run it alone with
//   node dist/bench/micro.js [--quick] [--json]
// (npm run bench runs it too, pinned to one core).
import { spawnSync } from 'node:child_process';
import { pathToFileURL } from 'node:url';
import { availableBackends, BACKEND_NAMES, EVENT_READ, EVENT_WRITE, FD_SETSIZE, selectorClass, sys, type BackendName, type BaseSelector } from '../lib/index.js';
import { compileC } from './build-c.js';
import { commandLine, oneOf } from '../support/options.js';
import { fmt, ratio, summarize, type Summary } from './lib/stats.js';

export type MicroOp = 'select' | 'selectRaw' | 'register' | 'modify';

export interface MicroOptions {
  /** Counted repetitions per measurement (medians are taken over them). */
  reps: number;
  /** Target CPU time of one repetition, in ms. */
  repMs: number;
  backends: string[];
  /** Registered fd counts of the select curve. */
  sizes: number[];
  /** Registered fd counts for register and modify. */
  ctlSizes: number[];
  progress?: (line: string) => void;
}

export interface MicroRow {
  op: MicroOp;
  backend: string;
  nfds: number;
  iters: number;
  /** CPU ns per operation, over the repetitions. */
  js: Summary;
  /** The C loop's CPU ns per operation; absent where there is no C loop. */
  c?: Summary;
}

export interface MicroResult {
  rows: MicroRow[];
  skipped: string[];
}

/** Backends that have a C loop in selectbench.c. */
const C_BACKENDS = new Set(['epoll', 'poll', 'select']);

export function defaultMicroOptions(quick: boolean): MicroOptions {
  return {
    reps: quick ? 3 : 7,
    repMs: quick ? 25 : 120,
    backends: availableBackends(),
    sizes: [1, 10, 100, 1000, 10000],
    ctlSizes: quick ? [1] : [1, 10000],
  };
}

const byte = new Uint8Array(1);

/** NFDS - 1 idle fds (both ends of pipes, registered for reading: a pipe's
 * write end never becomes readable) plus one pipe whose read end is the
 * measured fd; created last so it has the highest number, as in the C loop. */
class Fixture {
  readonly idle: number[] = [];
  readonly r: number;
  readonly w: number;
  constructor(nfds: number) {
    try {
      while (this.idle.length < nfds - 1) this.idle.push(...sys.pipe());
      [this.r, this.w] = sys.pipe();
    } catch (err) {
      this.close();
      throw err;
    }
  }
  close(): void {
    for (const fd of [...this.idle, this.r, this.w]) if (fd !== undefined) sys.close(fd);
    this.idle.length = 0;
  }
}

type Loop = (iters: number) => void;

function jsLoop(op: MicroOp, sel: BaseSelector, f: Fixture): Loop {
  const { r, w } = f;
  switch (op) {
    case 'select':
      return (iters) => {
        for (let i = 0; i < iters; i++) {
          sys.write(w, byte, 0, 1);
          const ready = sel.select(0);
          if (ready.length !== 1) throw new Error(`expected 1 ready fd, got ${ready.length}`);
          sys.read(r, byte, 0, 1);
        }
      };
    case 'selectRaw':
      return (iters) => {
        for (let i = 0; i < iters; i++) {
          sys.write(w, byte, 0, 1);
          const n = sel.selectRaw(0);
          if (n !== 1 || sel.readyEvents[0] !== r) throw new Error(`expected fd ${r} ready, got ${n} fds`);
          sys.read(r, byte, 0, 1);
        }
      };
    case 'register':
      return (iters) => {
        for (let i = 0; i < iters; i++) {
          sel.register(r, EVENT_READ);
          sel.unregister(r);
        }
      };
    case 'modify':
      return (iters) => {
        for (let i = 0; i < iters; i++) sel.modify(r, i & 1 ? EVENT_READ : EVENT_READ | EVENT_WRITE);
      };
  }
}

/** CPU ns per iteration of `loop(iters)`. */
function measure(loop: Loop, iters: number): number {
  const before = process.cpuUsage();
  loop(iters);
  const used = process.cpuUsage(before);
  return ((used.user + used.system) * 1000) / iters;
}

/** Warms the JIT (until a run takes 30 ms of CPU, enough for V8 to finish
 * optimising the loop) and finds how many iterations take about `ms`. */
function calibrate(loop: Loop, ms: number): number {
  let iters = 16;
  for (;;) {
    const before = process.cpuUsage();
    loop(iters);
    const used = process.cpuUsage(before);
    const us = used.user + used.system;
    if (us >= 30_000 || iters >= 1 << 24) return Math.max(16, Math.round((iters * ms * 1000) / Math.max(us, 1)));
    iters *= 2;
  }
}

function runC(binary: string, op: MicroOp, backend: string, nfds: number, iters: number): number {
  const cOp = op === 'selectRaw' ? 'select' : op;
  const out = spawnSync(binary, [cOp, backend, String(nfds), String(iters)], { encoding: 'utf8' });
  if (out.status !== 0) throw new Error(`selectbench ${cOp} ${backend} ${nfds}: ${out.stderr || out.error}`);
  return (JSON.parse(out.stdout) as { cpuNs: number }).cpuNs;
}

/** Runs the allocating select() loop once untimed before anything is
 * measured: V8 grows its young generation and tiers up the shared paths
 * (sys.read/write, the selector base) during the first few hundred ms, which
 * would otherwise land on whichever measurement comes first. */
function warmUp(ms: number): void {
  const fixture = new Fixture(1);
  const sel = new (selectorClass(availableBackends()[0]!))();
  try {
    sel.register(fixture.r, EVENT_READ);
    const loop = jsLoop('select', sel, fixture);
    loop(calibrate(loop, 10 * ms));
  } finally {
    sel.close();
    fixture.close();
  }
}

/** The largest registered-fd count a backend can hold: select() watches
 * fds below FD_SETSIZE only, and this process has a few fds open already. */
function maxFds(backend: string): number {
  return backend === 'select' ? FD_SETSIZE : Infinity;
}

export async function runMicro(opts: MicroOptions): Promise<MicroResult> {
  const binary = await compileC('selectbench');
  const rows: MicroRow[] = [];
  const skipped: string[] = [];
  const progress = opts.progress ?? (() => {});
  warmUp(opts.repMs);
  const plan: Array<{ ops: MicroOp[]; sizes: number[] }> = [
    { ops: ['select', 'selectRaw'], sizes: opts.sizes },
    { ops: ['register', 'modify'], sizes: opts.ctlSizes },
  ];
  for (const backend of opts.backends) {
    if (!(BACKEND_NAMES as readonly string[]).includes(backend)) {
      skipped.push(`${backend}: no selector class`);
      continue;
    }
    const Selector = selectorClass(backend as BackendName);
    for (const { ops, sizes } of plan) {
      for (const nfds of sizes) {
        if (nfds > maxFds(backend)) {
          const reason = `${backend} at ${nfds} fds: select() is limited to fds below FD_SETSIZE (${FD_SETSIZE})`;
          if (!skipped.includes(reason)) skipped.push(reason);
          continue;
        }
        const fixture = new Fixture(nfds);
        const sel = new Selector();
        try {
          try {
            for (const fd of fixture.idle.slice(0, nfds - 1)) sel.register(fd, EVENT_READ);
            sel.unregister(sel.register(fixture.r, EVENT_READ).fd); // the measured fd must fit as well
          } catch (err) {
            if ((err as { code?: string }).code !== 'ERR_FD_OUT_OF_RANGE') throw err;
            skipped.push(`${backend} at ${nfds} fds: ${(err as Error).message}`);
            continue;
          }
          for (const op of ops) {
            if (op !== 'register') sel.register(fixture.r, EVENT_READ);
            const loop = jsLoop(op, sel, fixture);
            const iters = calibrate(loop, opts.repMs);
            const js: number[] = [];
            const c: number[] = [];
            const withC = C_BACKENDS.has(backend);
            for (let rep = 1; rep <= opts.reps; rep++) {
              progress(`micro ${backend} ${op} fds=${nfds} rep ${rep}/${opts.reps}`);
              js.push(measure(loop, iters));
              if (withC) c.push(runC(binary, op, backend, nfds, iters));
            }
            if (op !== 'register') sel.unregister(fixture.r);
            const row: MicroRow = { op, backend, nfds, iters, js: summarize(js) };
            if (withC) row.c = summarize(c);
            rows.push(row);
          }
        } finally {
          sel.close();
          fixture.close();
        }
      }
    }
  }
  return { rows, skipped };
}

/** Markdown tables: the select curve, then register/modify. */
export function microTables(result: MicroResult): string {
  const us = (ns: number) => fmt(ns / 1000);
  const lines: string[] = [];
  const curve = result.rows.filter((r) => r.op === 'select' || r.op === 'selectRaw');
  const sizes = [...new Set(curve.map((r) => r.nfds))].sort((a, b) => a - b);
  lines.push('Cost of one select() with 1 ready fd among N registered fds (µs of CPU per call, including the write that makes the fd ready and the read that drains it; median; ratio to the C loop doing the same syscalls):', '');
  lines.push(`| backend | call | ${sizes.map((n) => `N=${n.toLocaleString('en-US')}`).join(' | ')} |`);
  lines.push(`|---|---|${sizes.map(() => '---:').join('|')}|`);
  const backends = [...new Set(curve.map((r) => r.backend))];
  for (const backend of backends) {
    for (const op of ['select', 'selectRaw'] as const) {
      const cells = sizes.map((n) => {
        const row = curve.find((r) => r.backend === backend && r.op === op && r.nfds === n);
        if (row === undefined) return '—';
        return row.c ? `${us(row.js.median)} (${ratio(row.js.median, row.c.median)})` : us(row.js.median);
      });
      lines.push(`| ${backend} | ${op}() | ${cells.join(' | ')} |`);
    }
    const cCells = sizes.map((n) => {
      const row = curve.find((r) => r.backend === backend && r.op === 'select' && r.nfds === n);
      return row?.c ? us(row.c.median) : '—';
    });
    if (cCells.some((c) => c !== '—')) lines.push(`| ${backend} | C loop | ${cCells.join(' | ')} |`);
  }
  lines.push('');
  const ctl = result.rows.filter((r) => r.op === 'register' || r.op === 'modify');
  if (ctl.length > 0) {
    lines.push('Register + unregister pair and modify (µs of CPU per operation, median, min–max; N fds registered):', '');
    lines.push('| backend | operation | N | JS | C loop | JS / C |');
    lines.push('|---|---|---:|---:|---:|---:|');
    for (const row of ctl) {
      const name = row.op === 'register' ? 'register+unregister' : 'modify';
      const js = `${us(row.js.median)} (${us(row.js.min)}–${us(row.js.max)})`;
      const c = row.c ? `${us(row.c.median)} (${us(row.c.min)}–${us(row.c.max)})` : '—';
      lines.push(`| ${row.backend} | ${name} | ${row.nfds.toLocaleString('en-US')} | ${js} | ${c} | ${row.c ? ratio(row.js.median, row.c.median) : '—'} |`);
    }
    lines.push(
      '',
      'poll and select keep their interest sets in user memory: register checks the fd with one fcntl(F_GETFD) and modify makes no syscall at all, ' +
        'so their modify ratio compares the TypeScript bookkeeping (validation, a new SelectorKey, one N-API call) with a few stores in C.',
      '',
    );
  }
  for (const s of result.skipped) lines.push(`- skipped: ${s}`);
  return lines.join('\n');
}

async function main(argv: string[]): Promise<void> {
  const cli = commandLine(
    'micro',
    'node dist/bench/micro.js [options]',
    {
      quick: { type: 'boolean', default: false, help: 'a short run: fewer and shorter repetitions, fewer fd counts' },
      json: { type: 'boolean', default: false, help: 'print the results as JSON instead of tables' },
      backends: { type: 'string', arg: 'A,B', help: `only these backends (default: the ones available here, ${availableBackends().join(',')})` },
    },
    argv,
  );
  const { values } = cli;
  const opts = defaultMicroOptions(values.quick);
  if (values.backends !== undefined) opts.backends = cli.check(() => values.backends!.split(',').map((b) => oneOf('backends', b.trim(), availableBackends())));
  const json = values.json;
  opts.progress = (line) => process.stderr.write(`${line}\n`);
  const result = await runMicro(opts);
  process.stdout.write(json ? `${JSON.stringify(result)}\n` : `${microTables(result)}\n`);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) await main(process.argv.slice(2));
