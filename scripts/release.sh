#!/usr/bin/env bash
# npm run release: every prebuild this machine can make, then the tarball.
#   - linux-arm64, cross-compiled, on a Linux x64 machine with Debian's
#     g++-aarch64-linux-gnu (aarch64-linux-gnu-g++ on PATH); native/configure.mjs
#     runs its feature tests with the cross compiler ($CC). It cannot be run
#     here, so it is only checked to be an aarch64 ELF shared object;
#   - this machine's own (npm run prebuild), last, so that build/Release holds
#     it afterwards as after npm run build:native.
# Every prebuild is N-API (one per platform, whatever the Node version),
# stripped and tagged with its libc (node-selectors.glibc.node or .musl.node).
# The prebuilds of other platforms (macOS, musl) come from the release
# workflow (.github/workflows/release.yml), which publishes from a v* tag.
# Prints each prebuild and the tarball's contents; the tarball is left in the
# repository's root.
set -euo pipefail
cd "$(dirname "$0")/.."

host="$(node -p 'process.platform + "-" + process.arch')"
rm -rf prebuilds

if [ "$host" = linux-x64 ]; then
  if command -v aarch64-linux-gnu-g++ >/dev/null 2>&1; then
    echo "=== linux-arm64 (cross: aarch64-linux-gnu-g++) ==="
    CC=aarch64-linux-gnu-gcc CXX=aarch64-linux-gnu-g++ npx prebuildify --napi --strip --tag-libc \
      --arch arm64 --strip-bin aarch64-linux-gnu-strip >/dev/null
    file -b prebuilds/linux-arm64/*.node | grep -q 'ARM aarch64' || {
      echo "prebuilds/linux-arm64 holds no aarch64 shared object" >&2
      exit 1
    }
  else
    echo "=== linux-arm64 skipped: no aarch64-linux-gnu-g++ (apt-get install g++-aarch64-linux-gnu) ===" >&2
  fi
fi

echo "=== $host ==="
npm run prebuild >/dev/null
mkdir -p build/Release
cp prebuilds/"$host"/*.node build/Release/selectors.node
npx tsc -b lib
node -e 'import("./dist/lib/index.js").then((m) => console.log(`it loads; backends: ${m.availableBackends().join(", ")}`))'

echo "=== prebuilds ==="
for f in prebuilds/*/*.node; do
  printf '%s  %s bytes  %s\n' "$f" "$(wc -c <"$f")" "$(file -b "$f" | cut -d, -f1-2)"
done

echo "=== npm pack ==="
npm pack
