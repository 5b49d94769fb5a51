#!/usr/bin/env bash
# npm run check:cross: compiles and links the addon for macOS arm64, macOS
# x86_64 and FreeBSD 13 x86_64 against those systems' own headers and libc,
# with Debian's clang/lld/llvm 16, and checks what comes out. The binaries are
# never run (no such kernel here); what they prove is that every native file
# and every feature test of native/configure.mjs compiles there, and which
# path of native/platform.cc each system takes.
#
# It builds binding.gyp as it is, through node-gyp, with CC/CXX/LINK set to
# the cross compiler: native/configure.mjs runs its feature tests with that
# compiler (against the target's headers and libc), so a new native file or
# a new feature test is covered without touching this script.
#
# The sysroots (macOS SDK 15.1 headers and libSystem.tbd, FreeBSD 13.4 headers
# and libraries; their README says where each file comes from) are found as
# .ci/run finds libkqueue: SYSROOTS_DIR, else shared/vendor/sysroots beside
# this repository or beside the one it was cloned from.
#
# Each target is checked for:
#  - node-gyp configure + build succeed, with no compiler warning in our code;
#  - configure.mjs found what that system has (EXPECT below): kqueue on all
#    three, and on FreeBSD the Linux-style fast paths and kqueue1;
#  - the result is a Mach-O bundle / FreeBSD ELF shared object of the right
#    architecture (file);
#  - no Linux-only import (llvm-nm): epoll, io_uring, inotify, signalfd,
#    timerfd, pidfd, glibc internals; on macOS also pipe2, dup3, accept4,
#    ppoll, eventfd, kqueue1 (FreeBSD 13 has those);
#  - macOS: it links only libSystem and libc++, every libc symbol is bound to
#    libSystem by two-level namespace (a call libSystem lacks would be left to
#    flat lookup and fail at load time), every C++ runtime symbol to libc++,
#    and only napi_*/node_api_*/uv_* are left to node;
#  - FreeBSD: every undefined symbol is versioned @FBSD_* (found in the
#    sysroot's libc/libthr/libm), node's, or the C++ runtime; NEEDED is a
#    subset of libc.so.7, libthr.so.3, libm.so.5.
#
# Env: TARGETS (default "macos-arm64 macos-x64 freebsd-x64"), SYSROOTS_DIR,
# CROSS_WORK (work folder, default a new one under /tmp, removed when every
# target passed), NODEDIR (node headers in NODEDIR/include/node; default the
# running node's prefix, else node-gyp's own), JOBS (make -j per target,
# default 1: the targets build in parallel), LLVM (default 16).
#
# Prints one line per target (PASS/FAIL), then "N passed, N failed". Exit
# status 0 when all passed, 1 when one failed, 2 when a tool or the sysroots
# are missing (nothing was built).
set -uo pipefail
cd "$(dirname "$0")/.."
PROJ=$PWD

say() { echo "check:cross: $*" >&2; }
missing() { say "$*"; exit 2; }

TARGETS=${TARGETS:-"macos-arm64 macos-x64 freebsd-x64"}
V=${LLVM:-16}
JOBS=${JOBS:-1}

# ---- sysroots -----------------------------------------------------------------
SR=${SYSROOTS_DIR:-}
if [ -z "$SR" ]; then
  origin=$(git config --get remote.origin.url 2>/dev/null || true)
  for candidate in ../shared/vendor/sysroots ${origin:+"$origin/../shared/vendor/sysroots"}; do
    if [ -f "$candidate/macos/usr/lib/libSystem.tbd" ]; then SR=$candidate; break; fi
  done
fi
[ -n "$SR" ] || missing "the cross sysroots were not found (set SYSROOTS_DIR to shared/vendor/sysroots; looked in ../shared/vendor/sysroots and beside the origin repository); nothing was built"
SR=$(cd "$SR" 2>/dev/null && pwd) || missing "SYSROOTS_DIR=$SYSROOTS_DIR is not a folder"
for f in macos/usr/lib/libSystem.tbd macos/libcxx-darwin/__config_site macos/usr/include/sys/event.h \
         freebsd13-x86_64/lib/libc.so.7 freebsd13-x86_64/usr/lib/libc.so freebsd13-x86_64/usr/include/sys/event.h; do
  [ -f "$SR/$f" ] || missing "the sysroots in $SR lack $f; nothing was built"
done

# ---- tools (Debian's LLVM packages, by absolute path) -------------------------
apt_hint="apt-get install clang-$V lld-$V llvm-$V libc++-$V-dev libc++abi-$V-dev file"
for t in "clang-$V" "clang++-$V" "ld.lld-$V" "llvm-nm-$V" "llvm-objdump-$V" "llvm-readelf-$V" file make python3; do
  command -v "$t" >/dev/null 2>&1 || missing "$t is missing ($apt_hint); nothing was built"
done
[ -x "/usr/lib/llvm-$V/bin/ld64.lld" ] || missing "/usr/lib/llvm-$V/bin/ld64.lld is missing ($apt_hint); nothing was built"
CLANG=$(command -v "clang-$V") CLANGXX=$(command -v "clang++-$V")
NM=$(command -v "llvm-nm-$V") OBJDUMP=$(command -v "llvm-objdump-$V") READELF=$(command -v "llvm-readelf-$V")
LIBCXX_INC=/usr/lib/llvm-$V/include/c++/v1
LIBCXX_SO=/usr/lib/llvm-$V/lib/libc++.so.1
LIBCXXABI_SO=/usr/lib/llvm-$V/lib/libc++abi.so.1
[ -f "$LIBCXX_INC/__config" ] && [ -f "$LIBCXX_SO" ] && [ -f "$LIBCXXABI_SO" ] ||
  missing "the libc++ $V headers or libraries are missing ($apt_hint); nothing was built"
GYP=(node "$PROJ/node_modules/node-gyp/bin/node-gyp.js")
[ -f "${GYP[1]}" ] || missing "node_modules/node-gyp is missing (npm ci); nothing was built"
nodedir=()
if [ -n "${NODEDIR:-}" ]; then nodedir=(--nodedir="$NODEDIR")
else
  prefix=$(node -p 'require("path").resolve(process.execPath, "../..")')
  [ -f "$prefix/include/node/node_api.h" ] && nodedir=(--nodedir="$prefix")
fi

if [ -n "${CROSS_WORK:-}" ]; then WORK=$CROSS_WORK; rm -rf "$WORK"; mkdir -p "$WORK"
else WORK=$(mktemp -d "${TMPDIR:-/tmp}/check-cross.XXXXXX"); fi
WORK=$(cd "$WORK" && pwd)
mkdir -p "$WORK/bin" "$WORK/fake" "$WORK/stubs"

# ---- generated stubs ------------------------------------------------------------
# A text stub of /usr/lib/libc++.1.dylib from the C++ runtime symbols Debian's
# libc++/libc++abi export (ABI v1, std::__1, as Apple's), so that C++ runtime
# imports bind to libc++ by two-level namespace, as with Xcode.
{
  printf '%s\n' '--- !tapi-tbd' 'tbd-version:     4' 'targets:         [ x86_64-macos, arm64-macos ]' \
    "install-name:    '/usr/lib/libc++.1.dylib'" 'current-version: 1.0' 'exports:' \
    '  - targets:         [ x86_64-macos, arm64-macos ]' '    symbols:         [ '
  "$NM" -D --defined-only -j "$LIBCXX_SO" "$LIBCXXABI_SO" |
    grep -E '^(_Z|__cxa_|__gxx_personality_v0$|__dynamic_cast$)' | sort -u | sed "s/.*/        '_&',/" | sed '$ s/,$//'
  printf '%s\n' '    ]' '...'
} > "$WORK/stubs/libc++.tbd"
grep -q "'__Znwm'" "$WORK/stubs/libc++.tbd" || missing "could not make a libc++.tbd from $LIBCXX_SO"
# gyp's make-mac generator asks xcodebuild for a version; there is no Xcode here.
printf '#!/bin/sh\necho "Xcode 15.0"\necho "Build version 15A240d"\n' > "$WORK/fake/xcodebuild"
chmod +x "$WORK/fake/xcodebuild"

# ---- targets ------------------------------------------------------------------------
declare -A TRIPLE=([macos-arm64]=arm64-apple-macos11.0 [macos-x64]=x86_64-apple-macos10.15
                   [freebsd-x64]=x86_64-unknown-freebsd13.4)
declare -A GYPARCH=([macos-arm64]=arm64 [macos-x64]=x64 [freebsd-x64]=x64)
declare -A FILEARCH=([macos-arm64]=arm64 [macos-x64]=x86_64 [freebsd-x64]=x86-64)
declare -A FLAVOR=([macos-arm64]=mac [macos-x64]=mac [freebsd-x64]=freebsd)
# What configure.mjs must find there (a subset of its "found:" line). macOS
# has neither the one-call forms nor kqueue1, so it compiles every fallback.
declare -A EXPECT=(
  [macos-arm64]="KQUEUE MSG_NOSIGNAL SO_NOSIGPIPE"
  [macos-x64]="KQUEUE MSG_NOSIGNAL SO_NOSIGPIPE"
  [freebsd-x64]="KQUEUE KQUEUE1 PIPE2 DUP3 SOCK_FLAGS ACCEPT4 PPOLL EVENTFD MSG_NOSIGNAL SO_NOSIGPIPE")
LINUX_ONLY='^(epoll_.*|io_uring.*|inotify_.*|signalfd.*|timerfd_.*|pidfd_.*|__errno_location|__libc_.*|.*@GLIBC.*)$'
MAC_LACKS='^(pipe2|dup3|accept4|ppoll|eventfd.*|kqueue1|kqueuex)$'
NODE_SYMS='^(napi_|node_api_|uv_)'
CXXRT='^(_Z|__cxa_|__gxx_personality_v0$|__dynamic_cast$|_Unwind_)'

wrapper() { # file compiler args...
  local out=$1 comp=$2; shift 2
  { echo '#!/bin/sh'; printf 'exec %q' "$comp"; printf ' %q' "$@"; printf ' "$@"\n'; } > "$out"
  chmod +x "$out"
}

# One executable per tool: gyp's make files and configure.mjs both take CC.
write_wrappers() { # target
  local t=$1 b=$WORK/bin/$1 q=(--target="${TRIPLE[$1]}" -fuse-ld=lld -Wno-unused-command-line-argument)
  case $t in
  macos-*)
    local s=$SR/macos
    # gyp's -mmacosx-version-min (MACOSX_DEPLOYMENT_TARGET) overrides the triple's version
    q+=(--sysroot="$s" -Wno-overriding-t-option)
    wrapper "$b-cc" "$CLANG" "${q[@]}"
    wrapper "$b-cxx" "$CLANGXX" "${q[@]}" -nostdinc++ -isystem "$s/libcxx-darwin" -isystem "$LIBCXX_INC" -L"$WORK/stubs"
    cp "$b-cxx" "$b-link" ;;
  freebsd-*)
    local s=$SR/freebsd13-x86_64
    q+=(--sysroot="$s")
    wrapper "$b-cc" "$CLANG" "${q[@]}"
    wrapper "$b-cxx" "$CLANGXX" "${q[@]}" -nostdinc++ -isystem "$LIBCXX_INC"
    # No libc++.so in the sysroot: the C++ runtime stays undefined in the
    # addon, to come from node, which links libc++ on FreeBSD.
    wrapper "$b-link" "$CLANGXX" "${q[@]}" -nostdlib++ ;;
  esac
}

check_macos() { # target file -> summary, or the reason (status 1)
  local t=$1 f=$2 desc und bad binds dylibs
  desc=$(file -b "$f")
  [[ $desc == *"Mach-O 64-bit"*bundle* && $desc == *"${FILEARCH[$t]}"* ]] || { echo "not a ${FILEARCH[$t]} Mach-O bundle: $desc"; return 1; }
  und=$("$NM" -u -j "$f") || { echo "llvm-nm failed"; return 1; }
  bad=$(sed 's/^_//' <<<"$und" | grep -E "$LINUX_ONLY|$MAC_LACKS" | tr '\n' ' ')
  [ -z "$bad" ] || { echo "imports Linux-only symbols: $bad"; return 1; }
  dylibs=$("$OBJDUMP" --macho --dylibs-used "$f" | tail -n +2 | awk '{print $1}')
  bad=$(grep -vxE '/usr/lib/libSystem\.B\.dylib|/usr/lib/libc\+\+\.1\.dylib' <<<"$dylibs" | tr '\n' ' ')
  [ -z "$bad" ] || { echo "links unexpected dylibs: $bad"; return 1; }
  grep -qx /usr/lib/libSystem.B.dylib <<<"$dylibs" || { echo "does not link libSystem"; return 1; }
  # "<segment> <section> <address> <type> <addend> <dylib> <symbol>" rows -> "dylib symbol"
  binds=$("$OBJDUMP" --macho --bind --lazy-bind "$f" |
    awk '/^(Bind table|Lazy bind table):|^segment/ {next} NF>=4 {sub(/ *\(weak_import\)$/,""); print $(NF-1), $NF}' | sort -u)
  [ -n "$binds" ] || { echo "no bind table (chained fixups?): cannot check the bindings"; return 1; }
  bad=$(awk '$1=="flat-namespace" && $2 !~ /^_(napi_|node_api_|uv_)/ {print $2}' <<<"$binds" | tr '\n' ' ')
  [ -z "$bad" ] || { echo "not in libSystem or libc++, left to flat lookup (would fail to load): $bad"; return 1; }
  bad=$(awk '$1!="flat-namespace" && $1!="libSystem" && $1!="libc++" {print $1":"$2}' <<<"$binds" | tr '\n' ' ')
  [ -z "$bad" ] || { echo "bound to unexpected libraries: $bad"; return 1; }
  bad=$(awk '$1!="flat-namespace" && $2 ~ /^_(napi_|node_api_|uv_)/ {print $2}' <<<"$binds" | tr '\n' ' ')
  [ -z "$bad" ] || { echo "node's symbols bound to a library: $bad"; return 1; }
  bad=$(comm -23 <(sort -u <<<"$und") <(awk '{print $2}' <<<"$binds" | sort -u) | grep -vx dyld_stub_binder | tr '\n' ' ')
  [ -z "$bad" ] || { echo "undefined symbols with no binding: $bad"; return 1; }
  echo "${desc%%,*}; imports $(awk '{n[$1]++} END {printf "libSystem %d, libc++ %d, node %d", n["libSystem"], n["libc++"], n["flat-namespace"]}' <<<"$binds")"
}

check_freebsd() { # target file
  local t=$1 f=$2 desc und bad needed
  desc=$(file -b "$f")
  [[ $desc == *"ELF 64-bit LSB shared object"* && $desc == *"${FILEARCH[$t]}"* && $desc == *FreeBSD* ]] ||
    { echo "not a ${FILEARCH[$t]} FreeBSD ELF shared object: $desc"; return 1; }
  und=$("$NM" -D -u "$f" | awk '{print $NF}') || { echo "llvm-nm failed"; return 1; }
  bad=$(grep -E "$LINUX_ONLY" <<<"$und" | tr '\n' ' ')
  [ -z "$bad" ] || { echo "imports Linux-only symbols: $bad"; return 1; }
  local strong; strong=$("$NM" -D -u "$f" | awk '$1=="U" {print $2}')
  bad=$(grep -vE "@FBSD_|$NODE_SYMS" <<<"$strong" | grep -vE "$CXXRT" | tr '\n' ' ')
  [ -z "$bad" ] || { echo "not in FreeBSD's libc.so.7/libthr.so.3/libm.so.5: $bad"; return 1; }
  needed=$("$READELF" -d "$f" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p')
  bad=$(grep -vxE 'libc\.so\.7|libthr\.so\.3|libm\.so\.5' <<<"$needed" | tr '\n' ' ')
  [ -z "$bad" ] || { echo "unexpected NEEDED: $bad"; return 1; }
  grep -qx libc.so.7 <<<"$needed" || { echo "does not link libc.so.7"; return 1; }
  echo "ELF x86-64 FreeBSD 13.4 shared object; imports libc/libthr/libm $(grep -c '@FBSD_' <<<"$strong"), node $(grep -cE "$NODE_SYMS" <<<"$strong"), C++ runtime $(grep -cE "$CXXRT" <<<"$strong")"
}

build_target() { # target -> one line; status 0 = passed
  local t=$1 d=$WORK/$1 t0=$SECONDS log=$WORK/$1/build.log
  [ -n "${TRIPLE[$t]:-}" ] || { echo "FAIL $t: unknown target (one of ${!TRIPLE[*]})"; return 1; }
  mkdir -p "$d/src"
  write_wrappers "$t"
  # A copy per target (each needs its own build/); node_modules is linked.
  tar -C "$PROJ" --exclude=./node_modules --exclude=./.git --exclude=./build --exclude='./build-*' \
    --exclude=./dist --exclude=./prebuilds -cf - . | tar -C "$d/src" -xf - || { echo "FAIL $t: cannot copy the project"; return 1; }
  ln -s "$PROJ/node_modules" "$d/src/node_modules"
  mkdir -p "$d/tmp"
  ( cd "$d/src" &&
    export CC=$WORK/bin/$t-cc CXX=$WORK/bin/$t-cxx LINK=$WORK/bin/$t-link PATH=$WORK/fake:$PATH TMPDIR=$d/tmp &&
    unset NODE_SELECTORS_PORTABLE LIBKQUEUE_DIR NODE_SELECTORS_SANITIZE &&
    "${GYP[@]}" configure "${nodedir[@]}" --arch="${GYPARCH[$t]}" -- -f "make-${FLAVOR[$t]}" &&
    "${GYP[@]}" build "${nodedir[@]}" -j "$JOBS" ) > "$log" 2>&1
  local status=$?
  local found; found=$(sed -n 's/^node-selectors configure: .*found: //p' "$log" | tail -n 1)
  if [ "$status" -ne 0 ]; then
    local why; why=$(grep -m 3 -E 'configure: error|: (fatal )?error:|ld(64)?\.lld: error:|^make: \*\*\*' "$log")
    [ -n "$why" ] || why=$(grep -m 3 'gyp ERR!' "$log")
    echo "FAIL $t: the build failed: $(tr '\n' ' ' <<<"$why")(log: $log)"; return 1
  fi
  local warnings; warnings=$(grep -E '^(\.\./)?native/.*: warning:' "$log" | sort -u)
  [ -z "$warnings" ] || { echo "FAIL $t: compiler warnings: $(head -n 3 <<<"$warnings" | tr '\n' ' ')(log: $log)"; return 1; }
  local w; for w in ${EXPECT[$t]}; do
    [[ ", $found," == *", $w,"* ]] || { echo "FAIL $t: configure.mjs did not find $w (found: ${found:-nothing}; log: $log)"; return 1; }
  done
  local f=$d/src/build/Release/selectors.node reason
  [ -f "$f" ] || { echo "FAIL $t: no build/Release/selectors.node (log: $log)"; return 1; }
  cp "$f" "$WORK/selectors-$t.node"
  case $t in
    macos-*) reason=$(check_macos "$t" "$f") ;;
    freebsd-*) reason=$(check_freebsd "$t" "$f") ;;
  esac || { echo "FAIL $t: $reason (binary: $WORK/selectors-$t.node)"; return 1; }
  echo "PASS $t: $reason; $(find "$d/src/build/Release" -name '*.o' | wc -l) objects; configure found: $found; $((SECONDS - t0))s"
}

say "sysroots $SR, work folder $WORK"
pids=()
for t in $TARGETS; do
  mkdir -p "$WORK/$t"
  ( build_target "$t" > "$WORK/$t/result" ) &
  pids+=($!)
done
wait "${pids[@]}"
pass=0 fail=0
for t in $TARGETS; do
  line=$(cat "$WORK/$t/result" 2>/dev/null)
  [ -n "$line" ] || line="FAIL $t: the check itself stopped (see $WORK/$t)"
  echo "$line"
  if [[ $line == PASS* ]]; then pass=$((pass + 1)); else fail=$((fail + 1)); fi
done
echo "$pass passed, $fail failed"
if [ "$fail" -eq 0 ] && [ -z "${CROSS_WORK:-}" ]; then rm -rf "$WORK"; fi
[ "$fail" -eq 0 ]
