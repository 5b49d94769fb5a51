// PNG charts of the benchmark results, made in Node without a browser:
// vega-lite compiles a spec, vega renders it headless to SVG (no canvas), and
// resvg (a Rust renderer shipped prebuilt inside its npm package) rasterises
// the SVG with the system's fonts.
import { writeFile } from 'node:fs/promises';
import { Resvg } from '@resvg/resvg-js';
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';

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
          color: { field: 'kind', type: 'nominal', title: null, legend: { orient: 'bottom' } },
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
  /** e.g. "epoll (JS)", "epoll (C)" */
  series: string;
  backend: string;
  impl: 'JS' | 'C';
  nfds: number;
  us: number;
}

/** Log–log lines of select() cost against registered fds, per backend, JS solid and C dashed. */
export function selectCurveChart(points: CurvePoint[], title: string): TopLevelSpec {
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    // The dash legend does not survive SVG rendering well; the subtitle says it.
    title: { text: title, fontSize: 14, subtitle: 'solid: through node-selectors (JS); dashed: a C loop making the same syscalls' },
    width: 520,
    height: 340,
    data: { values: points },
    mark: { type: 'line', point: true },
    encoding: {
      x: { field: 'nfds', type: 'quantitative', scale: { type: 'log' }, title: 'registered fds (1 ready, the rest idle)', axis: { values: [1, 10, 100, 1000, 10000], format: ',d' } },
      y: { field: 'us', type: 'quantitative', scale: { type: 'log' }, title: 'µs of CPU per select() (with write + read)' },
      color: { field: 'backend', type: 'nominal', title: 'backend' },
      strokeDash: { field: 'impl', type: 'nominal', title: 'loop', legend: null, scale: { domain: ['JS', 'C'], range: [[1, 0], [5, 4]] } },
      detail: { field: 'series' },
    },
  };
}
