#!/usr/bin/env bash
# Builds the addon with AddressSanitizer + UndefinedBehaviorSanitizer in a
# scratch directory (the normal build/ is left alone) and runs the test suite
# against it. Any ASan report or UB aborts the process, failing the run.
# Leak detection is off: LeakSanitizer reports Node's own allocations that
# live until exit; valgrind (scripts/valgrind.sh) checks the addon for leaks.
set -euo pipefail
source "$(dirname "$0")/scratch-build.sh"
NODE_SELECTORS_SANITIZE=1 scratch_build asan
addon="$work/build/Release/selectors.node"
[ "$(nm -u "$addon" | grep -c __asan_)" -gt 0 ] || { echo "asan: the addon was not instrumented" >&2; exit 1; }
cd "$root"
NODE_SELECTORS_ADDON="$addon" \
LD_PRELOAD="$(gcc -print-file-name=libasan.so) $(gcc -print-file-name=libubsan.so)" \
ASAN_OPTIONS="detect_leaks=0:abort_on_error=1:halt_on_error=1:detect_odr_violation=0" \
UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1" \
  npx vitest run "$@"
