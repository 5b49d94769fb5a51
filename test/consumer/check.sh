#!/usr/bin/env bash
# The package as its users get it: packs this tree (with the prebuild that
# `npm run prebuild` left in prebuilds/), installs the tarball into a new
# project in a temporary directory with no network (npm --offline, inside a
# network namespace where one can be made) and no install script
# (--ignore-scripts), so the dependencies come from a local npm cache and
# nothing is compiled or downloaded at install time, then runs a user's ES module program, a CommonJS one and a
# TypeScript one (strict, module nodenext, compiled by this repository's
# typescript against the installed declarations and @types/node) against it.
# A second install runs the install script (node-gyp-build) with no compiler
# on PATH, and checks that it takes the prebuild instead of compiling.
# Prints the tarball's contents and size. Exits non-zero on any failure.
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
fixtures="$repo/test/consumer"
tmp=$(mktemp -d -t node-selectors-consumer.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

fail() { echo "consumer check: $*" >&2; exit 1; }

# No network: a new network namespace (root on Linux), else npm's --offline alone.
if unshare -n true 2>/dev/null; then
  offline() { unshare -n "$@"; }
  where="no network (unshare -n)"
else
  offline() { "$@"; }
  where="npm --offline"
fi

platform_dir="prebuilds/$(node -p 'process.platform + "-" + process.arch')"
ls "$repo/$platform_dir"/*.node >/dev/null 2>&1 || fail "no prebuild in $platform_dir: run npm run prebuild first"

# Pack. prepare (tsc -b) runs as it does for npm publish; its banner goes to stderr.
(cd "$repo" && npm pack --json --pack-destination "$tmp" 2>&1 >"$tmp/pack.json" | sed 's/^/  /' >&2)
tarball=$(node -e '
  const [p] = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  const files = p.files.map((f) => f.path);
  const need = ["package.json", "README.md", "LICENSE", "CHANGELOG.md", "binding.gyp",
    "dist/lib/index.js", "dist/lib/index.d.ts", "native/configure.mjs"];
  const missing = need.filter((f) => !files.includes(f));
  if (!files.some((f) => f.startsWith(process.argv[2] + "/") && f.endsWith(".node"))) missing.push(process.argv[2] + "/*.node");
  const unwanted = files.filter((f) => f.endsWith(".map") || f.endsWith(".tsbuildinfo") || /^(lib|test|bench|examples|support|scripts|build)\//.test(f));
  for (const f of p.files) console.error(`  ${String(f.size).padStart(7)}  ${f.path}`);
  console.error(`  ${p.filename}: ${p.entryCount} files, ${p.size} bytes packed, ${p.unpackedSize} unpacked`);
  if (missing.length) { console.error(`missing from the tarball: ${missing.join(", ")}`); process.exit(1); }
  if (unwanted.length) { console.error(`not meant for the tarball: ${unwanted.join(", ")}`); process.exit(1); }
  console.log(p.filename);
' "$tmp/pack.json" "$platform_dir") || fail "the tarball's contents are wrong"

types_node=$(node -p 'require(process.argv[1]).version' "$repo/node_modules/@types/node/package.json")

new_project() { # dir
  mkdir -p "$1"
  printf '{ "name": "consumer", "version": "1.0.0", "private": true, "type": "module" }\n' >"$1/package.json"
  cp "$fixtures/esm.mjs" "$fixtures/cjs.cjs" "$fixtures/main.mts" "$fixtures/tsconfig.json" "$1/"
}

# The local cache: the registry packages this install needs (the package's
# dependencies and @types/node), put there by an install from the registry in
# a scratch project. npm install reads full packuments, which npm ci, working
# from a lockfile, does not cache, so the cache npm ci left is not enough.
cache="$tmp/npm-cache"
npm_quiet=(--cache "$cache" --no-audit --no-fund --loglevel=error)
new_project "$tmp/fill"
(cd "$tmp/fill" && npm install "${npm_quiet[@]}" --ignore-scripts "$tmp/$tarball" "@types/node@$types_node") ||
  fail "filling the local cache from the registry failed"

echo "install of $tarball with --ignore-scripts, $where"
app="$tmp/app"
new_project "$app"
(cd "$app" && offline npm install "${npm_quiet[@]}" --offline --ignore-scripts "$tmp/$tarball" "@types/node@$types_node") ||
  fail "npm install --offline --ignore-scripts failed"
test ! -e "$app/node_modules/node-selectors/build" || fail "the installed package has a build/ directory"

cd "$app"
offline node esm.mjs || fail "the ES module program failed"
offline node cjs.cjs || fail "the CommonJS program failed"
node "$repo/node_modules/typescript/bin/tsc" -p . || fail "the TypeScript program does not compile"
offline node out/main.mjs || fail "the compiled TypeScript program failed"

# The install script, run (npm 11 runs a dependency's only when allowed) with
# a PATH holding node, npm and sh alone: no compiler, make or python.
echo "install of $tarball running its install script with no compiler on PATH, $where"
bare="$tmp/bare-bin"
mkdir -p "$bare"
ln -s "$(command -v node)" "$bare/node"
ln -s "$(readlink -f "$(command -v npm)")" "$bare/npm"
ln -s "$(command -v sh)" "$bare/sh"
app2="$tmp/app-scripts"
new_project "$app2"
(cd "$app2" && offline env -u CC -u CXX PATH="$bare" npm install "${npm_quiet[@]}" --offline \
  --foreground-scripts --dangerously-allow-all-scripts "$tmp/$tarball" >"$tmp/scripted.log" 2>&1) ||
  { cat "$tmp/scripted.log" >&2; fail "npm install --offline (running the install script) failed"; }
grep -q '^> node-selectors@.* install$' "$tmp/scripted.log" || { cat "$tmp/scripted.log" >&2; fail "the install script did not run"; }
test ! -e "$app2/node_modules/node-selectors/build" || fail "the install script compiled instead of taking the prebuild"
(cd "$app2" && offline node esm.mjs) || fail "the ES module program failed after the scripted install"
echo "consumer check: passed"
