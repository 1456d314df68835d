#!/usr/bin/env bash
# Benchmark `landfall validate` on a synthetic landing zone (see scripts/gen-scale.py).
#
# Usage: scripts/bench-validate.sh [--accounts N]
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

ACCOUNTS=1000
RUNS=5
FIXTURE=target/scale
TIME=/usr/bin/time

usage() { echo "usage: $0 [--accounts N]" >&2; exit 2; }
while [[ $# -gt 0 ]]; do
    case "$1" in
        --accounts) [[ $# -ge 2 ]] || usage; ACCOUNTS="$2"; shift 2 ;;
        --accounts=*) ACCOUNTS="${1#--accounts=}"; shift ;;
        -h|--help) usage ;;
        *) echo "unknown argument: $1" >&2; usage ;;
    esac
done

[[ -x "$TIME" ]] || { echo "GNU time not found at $TIME" >&2; exit 1; }

echo "==> cargo build --release"
cargo build --release --quiet
BIN="${CARGO_TARGET_DIR:-target}/release/landfall"

echo "==> generating $ACCOUNTS accounts into $FIXTURE"
python3 scripts/gen-scale.py --accounts "$ACCOUNTS" --out "$FIXTURE"

TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT

echo "==> $BIN validate --env scale --chdir $FIXTURE  ($RUNS runs)"
times=()
rss=()
for i in $(seq 1 "$RUNS"); do
    status=0
    "$TIME" -f "%e s %M KB" -o "$TMP/time" \
        "$BIN" validate --env scale --chdir "$FIXTURE" >"$TMP/out" 2>&1 || status=$?
    if [[ $status -ne 0 ]]; then
        echo "run $i: landfall exited with status $status; its output:" >&2
        tail -n 40 "$TMP/out" >&2
        exit "$status"
    fi
    # GNU time may prepend lines (e.g. "Command exited with non-zero status"); ours is the last.
    measured="$(tail -n 1 "$TMP/time")"
    read -r secs _ kb _ <<<"$measured"
    times+=("$secs")
    rss+=("$kb")
    printf 'run %d: %s\n' "$i" "$measured"
done

median="$(printf '%s\n' "${times[@]}" | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }')"
max_mb="$(printf '%s\n' "${rss[@]}" | sort -g | tail -n 1 | awk '{ printf "%.1f", $1 / 1024 }')"

echo "median wall time: ${median} s"
echo "max RSS: ${max_mb} MB"

# The summary line landfall prints (resources and edges); fall back to the last line of output.
summary="$(grep -iE 'resource' "$TMP/out" | grep -iE 'edge' | tail -n 1 || true)"
[[ -n "$summary" ]] || summary="$(tail -n 1 "$TMP/out")"
echo "landfall: ${summary}"
