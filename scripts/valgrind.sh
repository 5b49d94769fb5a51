#!/usr/bin/env bash
# Runs a selector workout under valgrind's memcheck against a debug build of
# the addon (in a scratch directory), and fails on any invalid access or on
# memory definitely lost from the addon's own code.
set -euo pipefail
source "$(dirname "$0")/scratch-build.sh"
scratch_build valgrind --debug

log="$work/valgrind.log"
NODE_SELECTORS_ADDON="$work/build/Debug/selectors.node" \
  valgrind --tool=memcheck --leak-check=full --errors-for-leak-kinds=definite \
  --log-file="$log" node --jitless "$root/scripts/workout.mjs" "${@:-10000}" || true
# Only what involves the addon counts: Node itself is not valgrind-clean.
node "$root/scripts/valgrind-report.mjs" "$log"
