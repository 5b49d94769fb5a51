#!/usr/bin/env bash
# Builds the addon with AddressSanitizer + UndefinedBehaviorSanitizer in a
# scratch directory (the normal build/ is left alone) and runs the test suite
# against it. Any ASan report or UB aborts the process, failing the run.
# Leak detection is off: LeakSanitizer reports Node's own allocations that
# live until exit; valgrind (scripts/valgrind.sh) checks the addon for leaks.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d -t node-selectors-asan.XXXXXX)
trap 'rm -rf "$work"' EXIT

cp -r "$root/binding.gyp" "$root/native" "$work/"
ln -s "$root/node_modules" "$work/node_modules"
(cd "$work" && NODE_SELECTORS_SANITIZE=1 npm exec --no -- node-gyp rebuild >/dev/null)
addon="$work/build/Release/selectors.node"
[ "$(nm -u "$addon" | grep -c __asan_)" -gt 0 ] || { echo "asan: the addon was not instrumented" >&2; exit 1; }

(cd "$root" && npx tsc -p tsconfig.json)
cd "$root"
NODE_SELECTORS_ADDON="$addon" \
LD_PRELOAD="$(gcc -print-file-name=libasan.so) $(gcc -print-file-name=libubsan.so)" \
ASAN_OPTIONS="detect_leaks=0:abort_on_error=1:halt_on_error=1:detect_odr_violation=0" \
UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1" \
  npx vitest run "$@"
