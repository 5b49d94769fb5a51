// PNG charts of the benchmark results, made in Node without a browser:
// vega-lite compiles a spec, vega renders it headless to SVG (no canvas), and
// resvg (a Rust renderer shipped prebuilt inside its npm package) rasterises
// the SVG with the system's fonts. writeCharts draws every chart of a
// report (run.ts after a run, charts.ts from a saved latest.json).
//
// Colours mean one thing across charts: a kind of server has the same colour
// in every server chart (KIND_COLOURS), and the select() curve gives the
// backends colours of their own, none of them a kind's.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Resvg } from '@resvg/resvg-js';
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import { summarize, type Summary } from './stats.js';

/** The colour of each kind of server, in legend order, in every server chart. */
export const KIND_COLOURS: ReadonlyArray<readonly [kind: string, colour: string]> = [
  ['C', '#4c78a8'], // blue
  ['hand-written loop', '#e45756'], // red
  ['reactor', '#54a24b'], // green
  ['Node', '#f58518'], // orange
];
/** For a kind not listed above. */
const OTHER_KIND_COLOUR = '#9d755d';

/** The colour and marker of each backend in the select() curve. */
export const BACKEND_STYLES: ReadonlyArray<readonly [backend: string, colour: string, shape: string]> = [
  ['epoll', '#6f4e9c', 'circle'], // purple
  ['io_uring', '#b8860b', 'triangle-up'], // dark gold
  ['kqueue', '#d6609f', 'diamond'], // pink
  ['poll', '#17a2b8', 'square'], // cyan
  ['select', '#6b4226', 'cross'], // brown
];

/** Renders a vega-lite spec to a PNG file at twice the nominal size. */
export async function renderPng(spec: TopLevelSpec, path: string): Promise<void> {
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: 'none' });
  const svg = await view.toSVG();
  view.finalize();
  const png = new Resvg(svg, {
    background: 'white',
    fitTo: { mode: 'zoom', value: 2 },
    font: { loadSystemFonts: true, defaultFontFamily: 'DejaVu Sans' },
  })
    .render()
    .asPng();
  await writeFile(path, png);
}

export interface ServerBar {
  server: string;
  /** What kind of server it is, for the colour: C, hand-written loop, reactor, Node. */
  kind: string;
  cpuUsPerRequest: number;
  min: number;
  max: number;
}

/** Horizontal bars of server CPU µs per request (median, with min–max). */
export function serverCpuChart(bars: ServerBar[], title: string): TopLevelSpec {
  const sort = [...bars].sort((a, b) => a.cpuUsPerRequest - b.cpuUsPerRequest).map((b) => b.server);
  // Only the kinds present, in the legend, each in its own colour.
  const kinds = [...KIND_COLOURS.map(([kind]) => kind), ...new Set(bars.map((b) => b.kind))].filter((k, i, all) => all.indexOf(k) === i && bars.some((b) => b.kind === k));
  const range = kinds.map((k) => KIND_COLOURS.find(([kind]) => kind === k)?.[1] ?? OTHER_KIND_COLOUR);
  const y = { field: 'server', type: 'nominal' as const, sort, title: null, axis: { labelLimit: 300 } };
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: title, fontSize: 14, subtitle: 'bars: median over the counted runs; lines: min–max' },
    width: 520,
    height: { step: 24 },
    data: { values: bars.map((b) => ({ ...b, label: b.cpuUsPerRequest.toFixed(1) })) },
    layer: [
      {
        mark: { type: 'bar' },
        encoding: {
          y,
          x: { field: 'cpuUsPerRequest', type: 'quantitative', title: 'server CPU µs per request (median; lower is better)' },
          color: { field: 'kind', type: 'nominal', title: null, scale: { domain: kinds, range }, legend: { orient: 'bottom' } },
        },
      },
      {
        mark: { type: 'rule', color: '#333' },
        encoding: { y, x: { field: 'min', type: 'quantitative' }, x2: { field: 'max' } },
      },
      {
        mark: { type: 'text', align: 'left', dx: 4, fontSize: 11 },
        encoding: { y, x: { field: 'max', type: 'quantitative' }, text: { field: 'label' } },
      },
    ],
  };
}

export interface CurvePoint {
  /** e.g. "epoll JS", "epoll C" */
  series: string;
  backend: string;
  impl: 'JS' | 'C';
  nfds: number;
  us: number;
}

/** A size the micro-benchmark did not measure on a backend, and why. */
export interface SkippedPoint {
  backend: string;
  nfds: number;
  reason: string;
}

/**
 * Log–log lines of select() cost against registered fds: one colour and one
 * marker shape per backend (epoll's and io_uring's lines lie on top of each
 * other), JS solid and C dashed; each size a backend skipped is marked at
 * the end of its line with the reason.
 */
export function selectCurveChart(points: CurvePoint[], title: string, skipped: SkippedPoint[] = []): TopLevelSpec {
  const backends = [...BACKEND_STYLES.map(([b]) => b), ...new Set(points.map((p) => p.backend))].filter(
    (b, i, all) => all.indexOf(b) === i && points.some((p) => p.backend === b),
  );
  const style = (b: string) => BACKEND_STYLES.find(([name]) => name === b);
  const colour = { domain: backends, range: backends.map((b) => style(b)?.[1] ?? OTHER_KIND_COLOUR) };
  const shape = { domain: backends, range: backends.map((b) => style(b)?.[2] ?? 'circle') };
  const x = { field: 'nfds', type: 'quantitative' as const, scale: { type: 'log' as const }, title: 'registered fds (1 ready, the rest idle)', axis: { values: [1, 10, 100, 1000, 10000], format: ',d' } };
  const y = { field: 'us', type: 'quantitative' as const, scale: { type: 'log' as const }, title: 'µs of CPU per select() (with write + read)' };
  // A skipped size gets a hollow marker where its point would be on the x
  // axis, at the height of the last point its backend has, and a label.
  const marks = skipped.flatMap((s) => {
    const last = points.filter((p) => p.backend === s.backend && p.impl === 'JS' && p.nfds < s.nfds).sort((a, b) => b.nfds - a.nfds)[0];
    return last === undefined ? [] : [{ backend: s.backend, nfds: s.nfds, us: last.us, label: `${s.backend}: not measured`, fdLimit: /FD_SETSIZE \(\d+\)/.exec(s.reason)?.[0] ?? '' }];
  });
  const subtitle = ['solid: through node-selectors (JS); dashed: a C loop making the same syscalls; marker: backend'];
  for (const s of skipped) subtitle.push(`hollow marker: ${s.backend} at ${s.nfds.toLocaleString('en-US')} fds, not measured (${s.reason})`);
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    // The dash legend does not survive SVG rendering well; the subtitle says it.
    title: {
      text: title,
      fontSize: 14,
      subtitle,
    },
    width: 520,
    height: 340,
    layer: [
      {
        data: { values: points },
        mark: { type: 'line', point: { size: 70, filled: true } },
        encoding: {
          x,
          y,
          color: { field: 'backend', type: 'nominal', title: 'backend', scale: colour },
          shape: { field: 'backend', type: 'nominal', title: 'backend', scale: shape },
          strokeDash: { field: 'impl', type: 'nominal', title: 'loop', legend: null, scale: { domain: ['JS', 'C'], range: [[1, 0], [5, 4]] } },
          detail: { field: 'series' },
        },
      },
      ...(marks.length === 0
        ? []
        : [
            {
              data: { values: marks },
              mark: { type: 'point' as const, filled: false, size: 110, strokeWidth: 1.5 },
              encoding: { x, y, color: { field: 'backend', type: 'nominal' as const, scale: colour }, shape: { field: 'backend', type: 'nominal' as const, scale: shape } },
            },
            {
              data: { values: marks },
              mark: { type: 'text' as const, align: 'center' as const, baseline: 'top' as const, dy: 10, fontSize: 11 },
              encoding: { x, y, text: { field: 'label' }, color: { field: 'backend', type: 'nominal' as const, scale: colour } },
            },
            {
              data: { values: marks },
              mark: { type: 'text' as const, align: 'center' as const, baseline: 'top' as const, dy: 24, fontSize: 10, fontStyle: 'italic' },
              encoding: { x, y, text: { field: 'fdLimit' }, color: { value: '#555' } },
            },
          ]),
    ],
    resolve: { scale: { color: 'shared', shape: 'shared' } },
  };
}

/** The points of the select() curve in a micro-benchmark result, and the
 * sizes it skipped (its `skipped` lines `BACKEND at N fds: REASON`). */
export function curveData(micro: ChartedMicro): { points: CurvePoint[]; skipped: SkippedPoint[] } {
  const points: CurvePoint[] = [];
  for (const r of micro.rows.filter((r) => r.op === 'select')) {
    points.push({ series: `${r.backend} JS`, backend: r.backend, impl: 'JS', nfds: r.nfds, us: r.js.median / 1000 });
    if (r.c) points.push({ series: `${r.backend} C`, backend: r.backend, impl: 'C', nfds: r.nfds, us: r.c.median / 1000 });
  }
  const skipped: SkippedPoint[] = [];
  for (const line of micro.skipped) {
    const m = /^(\S+) at (\d+) fds: (.*)$/.exec(line);
    if (m !== null) skipped.push({ backend: m[1]!, nfds: Number(m[2]), reason: shortReason(m[3]!) });
  }
  return { points, skipped };
}

// "select() is limited to fds below FD_SETSIZE (1024)" -> "it takes fds below FD_SETSIZE (1024) only"
function shortReason(reason: string): string {
  const m = /limited to (.*)$/.exec(reason);
  return m ? `it takes ${m[1]} only` : reason;
}

/** What a server chart reads of a server's summary. */
export interface ChartedServer {
  name: string;
  kind: string;
  validRuns: number;
  cpuUsPerRequest: Summary;
}

/** What a chart reads of the micro-benchmark's result. */
export interface ChartedMicro {
  rows: Array<{ op: string; backend: string; nfds: number; js: Summary; c?: Summary }>;
  skipped: string[];
}

/** What the charts read of a report (bench/results/*.json). */
export interface ChartedReport {
  config: { loadgen: string; concurrency: number; keepaliveConnections: number };
  servers: ChartedServer[];
  keepalive?: { servers: ChartedServer[] };
  db?: { rows: Array<{ name: string; kind: string; cpuUsPerRequest: number[] }> };
  micro?: ChartedMicro;
}

/** The PNG files written, by chart. */
export interface Charts {
  server?: string;
  keepalive?: string;
  curve?: string;
  db?: string;
}

const bar = (s: ChartedServer): ServerBar => ({ server: s.name, kind: s.kind, cpuUsPerRequest: s.cpuUsPerRequest.median, min: s.cpuUsPerRequest.min, max: s.cpuUsPerRequest.max });

/** Draws every chart the report has data for into `dir`, as `BASE-server-cpu.png`,
 * `-keepalive-cpu`, `-db-cpu` and `-select-curve`; returns the names written. */
export async function writeCharts(report: ChartedReport, dir: string, base: string): Promise<Charts> {
  const { config: cfg } = report;
  const charts: Charts = {};
  const withData = report.servers.filter((s) => s.validRuns > 0);
  if (withData.length) {
    charts.server = `${base}-server-cpu.png`;
    await renderPng(serverCpuChart(withData.map(bar), `Hello-world server CPU per request (${cfg.loadgen} load generator, -c ${cfg.concurrency})`), join(dir, charts.server));
  }
  const keepaliveData = report.keepalive?.servers.filter((s) => s.validRuns > 0) ?? [];
  if (keepaliveData.length) {
    charts.keepalive = `${base}-keepalive-cpu.png`;
    await renderPng(
      serverCpuChart(keepaliveData.map(bar), `Keep-alive hello-world server CPU per request (wrk -t1 -c${cfg.keepaliveConnections}, HTTP/1.1 kept connections)`),
      join(dir, charts.keepalive),
    );
  }
  const dbRows = report.db?.rows.filter((r) => r.cpuUsPerRequest.length > 0) ?? [];
  if (dbRows.length) {
    charts.db = `${base}-db-cpu.png`;
    await renderPng(
      serverCpuChart(
        dbRows.map((r) => {
          const cpu = summarize(r.cpuUsPerRequest);
          return { server: r.name, kind: r.kind, cpuUsPerRequest: cpu.median, min: cpu.min, max: cpu.max };
        }),
        'Database round trip (SELECT 1 per request): server CPU per request',
      ),
      join(dir, charts.db),
    );
  }
  if (report.micro && report.micro.rows.some((r) => r.op === 'select')) {
    charts.curve = `${base}-select-curve.png`;
    const { points, skipped } = curveData(report.micro);
    await renderPng(selectCurveChart(points, 'One select() with 1 ready fd: CPU cost against registered fds', skipped), join(dir, charts.curve));
  }
  return charts;
}
