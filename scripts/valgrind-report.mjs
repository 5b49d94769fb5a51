// Reads a memcheck log and fails when an error or a definite leak has a
// stack through the addon (native/*.cc).
import { readFileSync } from 'node:fs';

const log = readFileSync(process.argv[2], 'utf8');
const blocks = log.split(/\n==\d+== \n/);
const ours = blocks.filter((b) => /native\/\w+\.(cc|h)/.test(b) && /(Invalid|uninitialised|definitely lost|Mismatched|overlap)/.test(b));
const summary = log.match(/ERROR SUMMARY: .*/)?.[0] ?? 'no summary';
if (!/workout done|ERROR SUMMARY/.test(log)) {
  console.error('valgrind: the workout did not run');
  process.exit(1);
}
console.log(`valgrind: ${summary}`);
console.log(`valgrind: ${ours.length} report(s) involving the addon`);
for (const b of ours) console.log(b);
process.exit(ours.length === 0 ? 0 : 1);
