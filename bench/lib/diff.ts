// The ratios two saved benchmark reports have in common, side by side (see
// bench/diff.ts): each a ratio to the C reference measured in the same run,
// the only figures that can be compared across runs on a shared machine.

/** The parts of a report (bench/run.ts's Report, as saved in JSON) that hold ratios. */
export interface ComparableReport {
  config: object;
  servers?: Array<{ name: string; cpuRatio?: { median: number; n: number } }>;
  keepalive?: { servers: Array<{ name: string; cpuRatio?: { median: number; n: number } }> };
  dgram?: { rows: Array<{ name: string; cpuRatio: { median: number } }> };
  pingpong?: { rows: Array<{ name: string; transport: string; cpuRatio: number; perSecondRatio: number }> };
  micro?: { rows: Array<{ op: string; backend: string; nfds: number; js: { median: number }; c?: { median: number } }> };
}

export interface DiffRow {
  /** The table it comes from. */
  table: string;
  name: string;
  /** What the ratio is of. */
  measure: string;
  first: number;
  second: number;
  /** (second / first − 1) × 100. */
  changePct: number;
}

/** Every ratio of a report, keyed by table, name and measure. */
function ratios(report: ComparableReport): Map<string, Omit<DiffRow, 'second' | 'changePct'>> {
  const out = new Map<string, Omit<DiffRow, 'second' | 'changePct'>>();
  const add = (table: string, name: string, measure: string, value: number | undefined) => {
    if (value !== undefined && Number.isFinite(value) && value > 0) out.set(`${table}\u0000${name}\u0000${measure}`, { table, name, measure, first: value });
  };
  const paired = 'CPU µs/request × C (paired)';
  for (const s of report.servers ?? []) if (s.name !== 'c-epoll' && (s.cpuRatio?.n ?? 0) > 0) add('hello', s.name, paired, s.cpuRatio!.median);
  for (const s of report.keepalive?.servers ?? []) if (s.name !== 'c-epoll' && (s.cpuRatio?.n ?? 0) > 0) add('keep-alive', s.name, paired, s.cpuRatio!.median);
  for (const r of report.dgram?.rows ?? []) if (r.name !== 'C epoll echo') add('datagrams', r.name, 'CPU µs/datagram × C', r.cpuRatio.median);
  for (const r of report.pingpong?.rows ?? []) {
    if (r.name === 'C epoll loop') continue;
    add('ping-pong', `${r.name} over ${r.transport}`, 'round trips/s × C', r.perSecondRatio);
    add('ping-pong', `${r.name} over ${r.transport}`, 'CPU µs/round trip × C', r.cpuRatio);
  }
  for (const r of report.micro?.rows ?? []) {
    if (r.c) add('micro', `${r.backend} ${r.op}, ${r.nfds} fds`, 'CPU ns/operation, JS × C', r.js.median / r.c.median);
  }
  return out;
}

/** The ratios both reports have, in the first one's order. */
export function diffReports(first: ComparableReport, second: ComparableReport): DiffRow[] {
  const b = ratios(second);
  const rows: DiffRow[] = [];
  for (const [key, row] of ratios(first)) {
    const other = b.get(key);
    if (other === undefined) continue;
    rows.push({ ...row, second: other.first, changePct: (other.first / row.first - 1) * 100 });
  }
  return rows;
}

/** The rows as a markdown table, the largest change marked. */
export function diffTable(rows: DiffRow[], firstName: string, secondName: string): string {
  const largest = Math.max(...rows.map((r) => Math.abs(r.changePct)));
  const lines = [
    `| table | server | ratio | ${firstName} | ${secondName} | change |`,
    '|---|---|---|---:|---:|---:|',
    ...rows.map(
      (r) =>
        `| ${r.table} | ${r.name} | ${r.measure} | ${r.first.toFixed(3)} | ${r.second.toFixed(3)} | ` +
        `${r.changePct >= 0 ? '+' : ''}${r.changePct.toFixed(1)}%${Math.abs(r.changePct) === largest ? ' (largest)' : ''} |`,
    ),
  ];
  return lines.join('\n');
}
