#!/bin/sh
# Container entrypoint. For `serve --config FILE ...`: on first start create the witness key named
# in FILE (`serve --print-vkey` creates a missing key, with the config's own name and path, exactly
# as `gossip-witness keygen` would) and print its vkey to the container log, so the operator can
# publish it; then exec the witness (PID 1 gets SIGTERM from `docker stop`: graceful shutdown).
# Any other command is passed to the CLI unchanged (`log serve`, `launch`, `keygen`, ...).
set -eu
if [ "${1:-}" = "serve" ]; then
  config=""
  prev=""
  for arg in "$@"; do
    if [ "$prev" = "--config" ]; then config="$arg"; fi
    case "$arg" in --config=*) config="${arg#--config=}" ;; esac
    prev="$arg"
  done
  if [ -n "$config" ]; then
    vkeys=$(gossip-witness serve --config "$config" --print-vkey)
    echo "gossip-witness: cosignature vkey(s) of this witness (publish these):" >&2
    echo "$vkeys" >&2
  fi
fi
exec gossip-witness "$@"
