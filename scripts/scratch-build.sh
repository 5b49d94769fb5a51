# Sourced by the native check scripts: builds the addon in a scratch
# directory, leaving the normal build/ alone, and refreshes dist/.
# Usage: scratch_build NAME [node-gyp args...]; sets $root and $work.
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

scratch_build() {
  local name=$1
  shift
  work=$(mktemp -d -t "node-selectors-$name.XXXXXX")
  trap 'rm -rf "$work"' EXIT
  cp -r "$root/binding.gyp" "$root/native" "$work/"
  ln -s "$root/node_modules" "$work/node_modules"
  (cd "$work" && npm exec --no -- node-gyp rebuild "$@" >/dev/null)
  (cd "$root" && npx tsc -b)
}
