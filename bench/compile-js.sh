#!/bin/bash
# Compiles src/ and bench/ to plain JavaScript in OUT (default /tmp/gossip-witness-js), for CPU
# profiles with line numbers: tsx minifies each module to one line, so a profile of the usual
# `node --import tsx bench/...` names functions but not lines. Then, e.g.:
#   GW_BENCH_PROF=/tmp/prof GW_BENCH_NODES=20 node OUT/bench/gossip.bench.js
# The compiled benches fork compiled workers without tsx (bench/lib/network.ts, COMPILED).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT=${1:-/tmp/gossip-witness-js}
case "$OUT" in /*) ;; *) echo "compile-js.sh: OUT must be an absolute path" >&2; exit 2 ;; esac
rm -rf "$OUT"
mkdir -p "$OUT"
CONF="$OUT/tsconfig.compile-js.json"
cat > "$CONF" <<J
{
  "extends": "$ROOT/tsconfig.json",
  "compilerOptions": { "outDir": "$OUT", "rootDir": "$ROOT", "declaration": false, "sourceMap": false, "noEmit": false, "typeRoots": ["$ROOT/node_modules/@types"] },
  "include": ["$ROOT/src/**/*.ts", "$ROOT/bench/**/*.ts"]
}
J
(cd "$ROOT" && npx tsc -p "$CONF")
ln -s "$ROOT/node_modules" "$OUT/node_modules"
cp "$ROOT/package.json" "$OUT/"
echo "compiled to $OUT: node $OUT/bench/gossip.bench.js"
