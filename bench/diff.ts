// Compares two saved benchmark reports ratio by ratio: every ratio to a C
// reference the reports have in common (the hello and keep-alive tables'
// paired × C, the datagram echo's, the ping-pong's, the micro-benchmarks'
// JS/C), its value in each, and the second's change against the first in
// per cent. Two runs of the same tree show how far the benchmark reproduces
// (bench/results keeps one report per kind of run, so copy the first aside
// before the second); a run before and after a change shows what it moved.
//
//   npm run bench:diff -- --first A.json --second B.json [--tolerance 3]
//
// With --tolerance PCT it exits 1 when any ratio moved by more than PCT %.
import { readFileSync } from 'node:fs';
import { commandLine, numberIn } from '../support/options.js';
import { diffReports, type ComparableReport, diffTable } from './lib/diff.js';

const cli = commandLine('diff', 'npm run bench:diff -- --first A.json --second B.json [options]\n       node dist/bench/diff.js --first A.json --second B.json [options]', {
  first: { type: 'string', arg: 'FILE', help: 'the earlier report, a .json file (required)' },
  second: { type: 'string', arg: 'FILE', help: 'the later report, compared with the first (required)' },
  tolerance: { type: 'string', arg: 'PCT', help: 'exit 1 when a ratio moved by more than PCT % (default: report only)' },
});

if (cli.values.first === undefined || cli.values.second === undefined) cli.fail('takes two reports: --first A.json --second B.json');
const files = [cli.values.first!, cli.values.second!];
const tolerance = cli.values.tolerance === undefined ? undefined : cli.check(() => numberIn('tolerance', cli.values.tolerance!, 0, 1000));

function read(file: string, option: string): ComparableReport {
  try {
    const report = JSON.parse(readFileSync(file, 'utf8')) as ComparableReport;
    if (typeof report?.config !== 'object') throw new Error('not a benchmark report');
    return report;
  } catch (err) {
    return cli.fail(`--${option} ${file}: ${(err as Error).message.split('\n')[0]}`);
  }
}

const rows = diffReports(read(files[0]!, 'first'), read(files[1]!, 'second'));
if (rows.length === 0) cli.fail('the two reports have no ratio in common');
console.log(diffTable(rows, files[0]!, files[1]!));
if (tolerance !== undefined) {
  const over = rows.filter((r) => Math.abs(r.changePct) > tolerance);
  console.log(`\n${over.length} of ${rows.length} ratios moved by more than ${tolerance}%${over.length ? `: ${over.map((r) => `${r.table} ${r.name}`).join(', ')}` : ''}`);
  if (over.length) process.exitCode = 1;
}
