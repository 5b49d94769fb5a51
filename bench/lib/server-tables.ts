// The markdown of the server tables (hello, keep-alive) and of the load
// generator comparison in `npm run bench`'s report.
import { CLOCKS, loadOptions, quietOptions, type Config } from './config.js';
import { C_SERVER } from './hello-servers.js';
import type { RoundsReport } from './rounds.js';
import { SATURATED, type LoadgenComparison, type ServerSummary } from './server-results.js';
import { fmt, pct, range, ratio, type Summary } from './stats.js';

/** A paired ratio's median and range: "1.23× (1.20–1.31)". */
function pairedCell(r: Summary): string {
  return r.n > 0 ? `${r.median.toFixed(2)}× (${r.min.toFixed(2)}–${r.max.toFixed(2)})` : '—';
}

/** A server table's rows, cheapest first by the paired ratio to the C
 * server; `extra` gives the cells that follow requests/s. */
function serverRows(summaries: ServerSummary[], extra: (s: ServerSummary) => string[] = () => []): string[] {
  const ref = summaries.find((s) => s.name === C_SERVER);
  const key = (s: ServerSummary) => (s.cpuRatio.n > 0 ? s.cpuRatio.median : Infinity);
  const sorted = [...summaries].sort((a, b) => key(a) - key(b) || (a.cpuUsPerRequest.median || Infinity) - (b.cpuUsPerRequest.median || Infinity));
  return sorted.map((s) => {
    const cells = [
      s.name,
      s.kind,
      pairedCell(s.cpuRatio),
      String(s.cpuRatio.n),
      fmt(s.cpuUsPerRequest.median),
      range(s.cpuUsPerRequest),
      fmt(s.requestsPerSecond.median),
      range(s.requestsPerSecond),
      ratio(s.requestsPerSecond.median, ref?.requestsPerSecond.median ?? NaN),
      ...extra(s),
      pct(s.serverUtilization),
      pct(s.clientUtilization),
      s.limitedBy,
      `${s.validRuns}/${s.validRuns + s.invalidRuns + s.noisyRuns}`,
      String(s.noisyRuns),
      String(s.failed),
      String(s.non200),
    ];
    return `| ${cells.join(' | ')} |`;
  });
}

/** What a table's rounds were and how runs were counted. */
function roundsLine(cfg: Config, rounds: RoundsReport | undefined): string {
  const quiet = quietOptions(cfg);
  const counting = quiet
    ? `a run counts only when it was valid and other work took less than ${Math.round(quiet.threshold * 100)}% of CPU ${quiet.cpu} while it ran ` +
      `(its busy time in /proc/stat less the server's own; each run first waits up to ${fmt(quiet.maxWaitMs / 1000)} s for that core to be quiet)`
    : 'every valid run counts (no quiet filter: --quiet 100, or no pinning)';
  const went = rounds
    ? ` This table ran ${rounds.rounds} rounds (more than ${cfg.runs} when runs were dropped, at most ${cfg.maxRounds}); ${rounds.noisyRuns} runs dropped as noisy; ${fmt(rounds.waitedMs / 1000)} s spent waiting for quiet.`
    : '';
  return `Each round runs every server once, the order rotating from round to round, and the C server before the first and after each of them; ` +
    `${cfg.sameProcess ? 'each server keeps its first process for every round (--same-process)' : 'every round after the first starts each server afresh (a new process, warmed up again)'}; ${counting}. ` +
    `**× C** is the median, over the rounds, of the server's CPU µs/request divided by the mean of the C server's in its runs just before and after (min–max of those ratios beside it; "pairs" counts them): ` +
    `the C server's own cost moves by tens of per cent between minutes on a shared machine, and a ratio to runs seconds apart cancels most of that.${went}`;
}

export function serverTable(cfg: Config, summaries: ServerSummary[], rounds: RoundsReport | undefined): string {
  const size =
    cfg.loadgen === 'wrk'
      ? `${loadOptions(cfg, '', 0).durationS} s per run with \`wrk -t1 -c${cfg.concurrency} -H 'Connection: close'\``
      : `${cfg.requests.toLocaleString('en-US')} requests per run`;
  const lines = [
    `${size}, ${cfg.concurrency} in flight${cfg.rate > 0 ? `, started at ${cfg.rate.toLocaleString('en-US')} per second at most` : ''}, a new connection per request (the \`ab -n ${cfg.requests} -c ${cfg.concurrency}\` workload), ` +
      `load generator: ${cfg.loadgen}; server pinned to CPU ${cfg.serverCpu ?? '(any)'}, load generator to CPU ${cfg.clientCpu ?? '(any)'}; ` +
      `${cfg.loadgen === 'wrk' ? 'one warm-up run' : `${cfg.warmup.toLocaleString('en-US')} warm-up requests`}, then ${cfg.runs} counted rounds; medians over the runs that counted.`,
    '',
    roundsLine(cfg, rounds),
    '',
    '| server | kind | CPU µs/request × C (min–max) | pairs | CPU µs/request | min–max | requests/s | min–max | × C | server CPU | load gen. CPU | limited by | counted runs | noisy | failed | non-200 |',
    '|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|',
  ];
  lines.push(...serverRows(summaries));
  lines.push(
    '',
    `CPU µs/request is the server process's own CPU time (${CLOCKS[cfg.clock].source}) divided by the replies it sent: ` +
      'the headline, because other load on the machine changes it far less than requests/s (compare ratios within one run). "server CPU" and "load gen. CPU" are the share of one core each used during a run; ' +
      `"limited by" names whichever was above ${Math.round(SATURATED * 100)}% (the load generator, then requests/s says more about the client than the server), ` +
      'or "neither" when both waited on each other through loopback TCP and scheduling latency.',
  );
  return lines.join('\n');
}

export function keepAliveTable(cfg: Config, summaries: ServerSummary[], rounds: RoundsReport | undefined): string {
  const lines = [
    `Every server started with \`--keep-alive\` (HTTP/1.1: each connection kept, every request on it answered), loaded by ` +
      `\`wrk -t1 -c${cfg.keepaliveConnections} -d${cfg.keepaliveSeconds}s\` (${cfg.keepaliveConnections} kept connections, one request in flight on each` +
      `${cfg.keepaliveDelay > 0 ? `, each waiting ${cfg.keepaliveDelay} ms after a reply before its next request` : ''}); ` +
      `server pinned to CPU ${cfg.serverCpu ?? '(any)'}, wrk to CPU ${cfg.clientCpu ?? '(any)'}; one warm-up run per server, then ${cfg.runs} counted rounds; medians over the runs that counted.`,
    '',
    roundsLine(cfg, rounds),
    '',
    '| server | kind | CPU µs/request × C (min–max) | pairs | CPU µs/request | min–max | requests/s | min–max | × C | requests/connection | server CPU | wrk CPU | limited by | counted runs | noisy | failed | non-200 |',
    '|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|',
  ];
  lines.push(...serverRows(summaries, (s) => [fmt(s.requestsPerConnection ?? NaN)]));
  lines.push(
    '',
    `CPU µs/request is the server process's own CPU time (${CLOCKS.sched.source}) divided by the replies wrk counted; the C server here is the C epoll keep-alive server. ` +
      '"requests/connection" is the replies of a run over the connections it used (wrk reopens one for every reply that closes it; a run in which the server closed any is invalid). ' +
      `"limited by" names whichever process was above ${Math.round(SATURATED * 100)}% of its core.`,
  );
  return lines.join('\n');
}

export function loadgenTable(cfg: Config, rows: LoadgenComparison[]): string {
  const ab = rows.find((r) => r.generator === 'ab' && r.cpuUsPerRequest.n > 0);
  const lines = [
    `Each load generator against the C server, ${cfg.requests.toLocaleString('en-US')} requests per run (wrk: ${cfg.quick ? 1 : 3} s with \`Connection: close\`), ${cfg.runs} runs alternating, pinned to CPU ${cfg.clientCpu ?? '(any)'}:`,
    '',
    '| load generator | its CPU µs/request | min–max | × ab | requests/s | server CPU µs/request |',
    '|---|---:|---:|---:|---:|---:|',
  ];
  for (const r of rows) {
    if (r.missing !== undefined) {
      lines.push(`| ${r.generator} | not measured: ${r.missing} | | | | |`);
      continue;
    }
    lines.push(
      `| ${r.generator} | ${fmt(r.cpuUsPerRequest.median)} | ${range(r.cpuUsPerRequest)} | ${ratio(r.cpuUsPerRequest.median, ab?.cpuUsPerRequest.median ?? NaN)} ` +
        `| ${fmt(r.requestsPerSecond.median)} | ${fmt(r.serverCpuUsPerRequest.median)} |`,
    );
  }
  return lines.join('\n');
}
