#!/usr/bin/env bash
# A CI-style check for issue 6 ("install never fails"): on a scratch copy of this working tree,
# `npm ci` on a PATH with no C++ compiler (mode `no-compiler`, the default) or with
# `--ignore-scripts` (mode `ignore-scripts`) must succeed, must leave the native addon unbuilt,
# and the whole test suite must then pass on the remaining backends (wasm, js).
#
#   bash scripts/check-install-without-compiler.sh [no-compiler|ignore-scripts]
set -euo pipefail
mode="${1:-no-compiler}"
src="$(cd "$(dirname "$0")/.." && pwd)"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

tar -C "$src" --exclude=./node_modules --exclude=./dist --exclude=./.git --exclude=./native/build \
  --exclude=./native/build.log --exclude=./native/build-status.json -cf - . | tar -C "$tmp" -xf -

# the same PATH, less every C/C++ compiler
bin="$tmp/.path-without-compilers"
mkdir "$bin"
IFS=: read -ra dirs <<<"$PATH"
for d in "${dirs[@]}"; do
  [ -d "$d" ] || continue
  for f in "$d"/*; do
    b="$(basename "$f")"
    case "$b" in g++* | c++* | gcc* | cc | clang* | *-linux-gnu-g* | *-linux-gnu-c*) continue ;; esac
    [ -e "$bin/$b" ] || ln -s "$f" "$bin/$b"
  done
done

cd "$tmp"
echo "check-install: npm ci ($mode) in $tmp"
if [ "$mode" = ignore-scripts ]; then npm ci --ignore-scripts; else PATH="$bin" npm ci; fi
if [ -e native/build/Release/tensorgrad_native.node ]; then
  echo "check-install: the native addon was built although it should not have been" >&2
  exit 1
fi
[ "$mode" = ignore-scripts ] || grep -q '"built": false' native/build-status.json
PATH="$bin" node --input-type=module -e '
  const tg = await import("./src/index.ts");
  const native = tg.backend.info().find((b) => b.name === "native");
  console.log(`check-install: backends ${tg.backend.list().join(", ")} (active ${tg.backend.current()}); native: ${native.reason}`);
  if (native.available) process.exit(1);' --import tsx
PATH="$bin" node scripts/run-tests.mjs
