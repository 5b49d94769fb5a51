// The targets `npm run bench` holds the project to, each checked against
// the run's own figures (paired ratios where servers are compared) and
// printed as a ✓ or ✗ line under "Targets".
import type { DbReport } from '../db.js';
import type { DgramReport } from '../dgram.js';
import type { MicroResult, MicroRow } from '../micro.js';
import type { PingPongReport, Transport } from '../pingpong.js';
import { C_SERVER, NET_MINIMAL, NO_IDLE_TIMEOUT } from './hello-servers.js';
import { pairedTo, summarizeServers, type LoadgenComparison, type ServerResult } from './server-results.js';
import { fmt, ratio, summarize, type Summary } from './stats.js';

export interface Check {
  ok: boolean | undefined;
  text: string;
}

/** "1.23× (1.20–1.31, 7 rounds)". */
const pairedText = (r: Summary): string => `${r.median.toFixed(2)}× (${r.min.toFixed(2)}–${r.max.toFixed(2)}, ${r.n} rounds)`;

// The goals of the hello table (a new connection per request): CPU µs per
// request as a paired ratio to the C server. The reactor example runs with
// its default 30 s idle timeout.
const HELLO_GOALS: Array<[string, number]> = [
  ['epoll', 1.15],
  ['reactor callbacks', 1.1],
];
/** The most the 30 s idle timeout may add to the callbacks hello (a paired ratio). */
const IDLE_TIMEOUT_GOAL = 1.02;

/** The targets the project holds itself to, checked against this run's figures. */
export function checks(results: ServerResult[], micro: MicroResult | undefined, loadgens: LoadgenComparison[]): Check[] {
  const out: Check[] = [];
  const summaries = summarizeServers(results);
  for (const s of summaries.filter((s) => (s.kind === 'hand-written loop' || s.kind === 'reactor') && s.validRuns > 0)) {
    const r = pairedTo(results, s.name, 'node:net');
    if (r) out.push({ ok: r.median < 1, text: `${s.name} below node:net in CPU µs/request: ${pairedText(r)}` });
  }
  for (const [name, goal] of HELLO_GOALS) {
    const r = pairedTo(results, name, C_SERVER);
    if (r) out.push({ ok: r.median <= goal, text: `${name} ≤ ${goal}× the C server in CPU µs/request, a new connection per request: ${pairedText(r)}` });
  }
  const idle = pairedTo(results, 'reactor callbacks', NO_IDLE_TIMEOUT);
  if (idle) out.push({ ok: idle.median <= IDLE_TIMEOUT_GOAL, text: `the reactor's default 30 s idle timeout costs at most ${Math.round((IDLE_TIMEOUT_GOAL - 1) * 100)} %, a new connection per request (reactor callbacks / ${NO_IDLE_TIMEOUT}): ${pairedText(idle)}` });
  if (micro) {
    const row = (op: string, backend: string, nfds: number) =>
      micro.rows.find((r) => r.op === op && r.backend === backend && r.nfds === nfds);
    for (const r of micro.rows.filter((r) => r.backend === 'epoll' && (r.op === 'select' || r.op === 'selectRaw') && r.c)) {
      out.push({
        ok: r.js.median / r.c!.median <= 1.3,
        text: `epoll ${r.op}() with 1 ready fd among ${r.nfds.toLocaleString('en-US')} ≤ 1.3× the C loop: ${ratio(r.js.median, r.c!.median)}`,
      });
    }
    for (const r of micro.rows.filter((r) => r.backend === 'epoll' && r.op === 'register' && r.c)) {
      out.push({
        ok: r.js.median / r.c!.median <= 2,
        text: `epoll register+unregister (${r.nfds.toLocaleString('en-US')} fds registered) ≤ 2× the C loop: ${ratio(r.js.median, r.c!.median)}`,
      });
    }
    // Growth: how the cost above the 1-fd cost (the write, read and syscall
    // entry every size pays) grows from 100 fds to the largest size, as a
    // log-log slope: 1 is linear, 0 is flat.
    for (const backend of ['select', 'poll', 'epoll']) {
      const sizes = micro.rows.filter((r) => r.backend === backend && r.op === 'select').map((r) => r.nfds);
      const hi = Math.max(...sizes);
      const base = row('select', backend, 1);
      const a = row('select', backend, 100);
      const b = row('select', backend, hi);
      if (base === undefined || a === undefined || b === undefined || hi <= 100) continue;
      if (backend === 'epoll') {
        out.push({
          ok: b.js.median <= 1.25 * base.js.median,
          text: `epoll: cost stays flat with idle fds: ${fmt(b.js.median / 1000)} µs at ${hi.toLocaleString('en-US')} fds vs ${fmt(base.js.median / 1000)} µs at 1 (${ratio(b.js.median, base.js.median)})`,
        });
        continue;
      }
      const extra = (r: MicroRow) => Math.max(r.js.median - base.js.median, 1);
      const slope = Math.log(extra(b) / extra(a)) / Math.log(hi / 100);
      out.push({
        ok: slope > 0.8 && slope < 1.2,
        text: `${backend}: cost grows linearly with idle fds: the cost above the 1-fd cost grows ${fmt(extra(b) / extra(a))}× from 100 to ${hi.toLocaleString('en-US')} fds (log–log slope ${slope.toFixed(2)}; 1 = linear)`,
      });
    }
  }
  const ours = loadgens.find((g) => g.generator === 'embedded' && g.cpuUsPerRequest.n > 0);
  const ab = loadgens.find((g) => g.generator === 'ab' && g.cpuUsPerRequest.n > 0);
  if (ours && ab) {
    out.push({
      ok: ours.cpuUsPerRequest.median < 0.8 * ab.cpuUsPerRequest.median,
      text: `the embedded load generator costs clearly less CPU per request than ab: ${fmt(ours.cpuUsPerRequest.median)} vs ${fmt(ab.cpuUsPerRequest.median)} µs (${ratio(ours.cpuUsPerRequest.median, ab.cpuUsPerRequest.median)})`,
    });
  }
  return out;
}

// The keep-alive goals: each reactor style's CPU µs/request as a ratio to the
// C keep-alive server's.
const KEEPALIVE_GOALS: Array<[string, number]> = [
  ['reactor callbacks', 1.15],
  ['reactor generators', 1.25],
  ['reactor async', 1.3],
];
/** Every reactor style's keep-alive CPU per request, at most this share of
 * the minimal node:net keep-alive server's (paired). */
const BELOW_NET_MINIMAL = 0.8;

/** The keep-alive targets, against this run's keep-alive figures (paired ratios). */
export function keepAliveChecks(results: ServerResult[]): Check[] {
  const out: Check[] = [];
  for (const [name, goal] of KEEPALIVE_GOALS) {
    const r = pairedTo(results, name, C_SERVER);
    if (r) out.push({ ok: r.median <= goal, text: `keep-alive ${name} ≤ ${goal}× the C keep-alive server in CPU µs/request: ${pairedText(r)}` });
  }
  for (const s of results.filter((s) => s.kind === 'reactor')) {
    const r = pairedTo(results, s.name, NET_MINIMAL);
    if (r) {
      out.push({
        ok: r.median <= BELOW_NET_MINIMAL,
        text: `keep-alive ${s.name} ≤ ${BELOW_NET_MINIMAL}× the minimal node:net keep-alive server in CPU µs/request: ${pairedText(r)}`,
      });
    }
  }
  return out;
}

/** The datagram targets: the hand-written echo over sys within 1.3× the C
 * echo server, and below node:dgram, in CPU µs per datagram. */
export function dgramChecks(report: DgramReport): Check[] {
  const row = (name: string) => report.rows.find((r) => r.name === name && Number.isFinite(r.cpuUsPerDatagram));
  const ours = row('sys + DefaultSelector');
  const node = row('node:dgram');
  const out: Check[] = [];
  if (ours) out.push({ ok: ours.cpuRatio.median <= 1.3, text: `UDP echo over sys + DefaultSelector ≤ 1.3× the C echo server in CPU µs/datagram: ${ours.cpuRatio.median.toFixed(2)}×` });
  if (ours && node) {
    out.push({
      ok: ours.cpuUsPerDatagram < node.cpuUsPerDatagram,
      text: `UDP echo over sys + DefaultSelector below node:dgram in CPU µs/datagram: ${fmt(ours.cpuUsPerDatagram)} vs ${fmt(node.cpuUsPerDatagram)} (${ratio(ours.cpuUsPerDatagram, node.cpuUsPerDatagram)})`,
    });
  }
  return out;
}

/** The database target: the reactor with ReactorSocket below node:net + mysql2. */
export function dbChecks(db: DbReport): Check[] {
  const cpu = (prefix: string) => {
    const row = db.rows.find((r) => r.name.startsWith(prefix) && r.cpuUsPerRequest.length > 0);
    return row ? summarize(row.cpuUsPerRequest).median : undefined;
  };
  const ours = cpu('reactor');
  const net = cpu('node:net');
  if (ours === undefined || net === undefined) return [];
  return [{ ok: ours < net, text: `reactor + mysql2 over ReactorSocket below node:net + mysql2 in CPU µs/request: ${fmt(ours)} vs ${fmt(net)} (${ratio(ours, net)})` }];
}

// The reactor's event-delivery goals, as ratios of round trips/s to the C
// loop of the same transport.
const PINGPONG_GOALS: Array<[Transport, string, number]> = [
  ['socketpair', 'reactor run()', 0.7],
  ['socketpair', 'reactor attach()', 0.5],
  ['pipes', 'reactor run()', 0.7],
  ['pipes', 'reactor attach()', 0.6],
];

export function pingPongChecks(report: PingPongReport): Check[] {
  return PINGPONG_GOALS.flatMap(([transport, name, goal]) => {
    const row = report.rows.find((r) => r.name === name && r.transport === transport);
    if (row === undefined) return [];
    return [
      {
        ok: row.perSecondRatio >= goal,
        text: `${name} ping-pong over ${transport === 'pipes' ? 'pipes' : 'a socketpair'} ≥ ${goal}× the C loop's round trips/s: ${row.perSecondRatio.toFixed(2)}×`,
      },
    ];
  });
}
