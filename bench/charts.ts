// Draws the charts of a saved benchmark report again, from its JSON, without
// running anything: after a change to the charts (bench/lib/charts.ts), the
// committed PNGs are redrawn from the committed bench/results/latest.json.
//
//   npm run bench:charts
//   node dist/bench/charts.js --input bench/results/quick.json
//
// The PNGs go beside the JSON, named after it (latest.json: latest-server-cpu.png,
// latest-keepalive-cpu.png, latest-db-cpu.png, latest-select-curve.png), as
// `npm run bench` names them; the report's markdown is left as it is.
import { readFileSync } from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { packageRoot } from './build-c.js';
import { writeCharts, type ChartedReport } from './lib/charts.js';
import { commandLine } from '../support/options.js';

const cli = commandLine('charts', 'npm run bench:charts -- [options]\n       node dist/bench/charts.js [options]', {
  input: { type: 'string', default: 'bench/results/latest.json', arg: 'FILE', help: 'the report whose charts to draw (relative to the package root)' },
});
const input = resolve(packageRoot(), cli.values.input);
if (!input.endsWith('.json')) cli.fail(`--input must name a report's .json file, got ${cli.values.input}`);

function readReport(): ChartedReport {
  let report: ChartedReport;
  try {
    report = JSON.parse(readFileSync(input, 'utf8')) as ChartedReport;
  } catch (err) {
    return cli.fail(`--input ${cli.values.input}: ${(err as Error).message.split('\n')[0]}`);
  }
  if (typeof report?.config !== 'object' || !Array.isArray(report.servers)) return cli.fail(`--input ${cli.values.input} is not a benchmark report`);
  return report;
}

const report = readReport();
const charts = await writeCharts(report, dirname(input), basename(input, '.json'));
for (const file of Object.values(charts)) console.log(relative(process.cwd(), join(dirname(input), file)));
