#!/usr/bin/env bash
# Long seeded random change sequences against the local AWS emulator, through the same code as the
# suite's `tests/sequences.rs`. Prints each seed's steps and, on failure, the failing seeds and how
# to replay one.
#
#   scripts/random-sequences.sh [--seeds N] [--first F] [--steps M] [--seed S] [--release]
#
#   --seeds N   run N seeds, F..F+N-1 (default 10)
#   --first F   the first seed (default 1)
#   --steps M   steps per seed (default 10)
#   --seed S    run only seed S (replay a failure)
#   --release   build with the release profile (a cold build if you never made one; debug by default)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

seeds=10 first=1 steps=10 seed="" profile=()
while [[ $# -gt 0 ]]; do
    case "$1" in
        --seeds) seeds="$2"; shift 2 ;;
        --first) first="$2"; shift 2 ;;
        --steps) steps="$2"; shift 2 ;;
        --seed) seed="$2"; shift 2 ;;
        --release) profile=(--release); shift ;;
        -h|--help) sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "error: unknown argument $1 (see --help)" >&2; exit 2 ;;
    esac
done

./scripts/moto-venv.sh >/dev/null
export LANDFALL_SEQ_SEEDS="$seeds" LANDFALL_SEQ_FIRST="$first" LANDFALL_SEQ_STEPS="$steps"
if [[ -n "$seed" ]]; then
    export LANDFALL_SEQ_SEED="$seed"
fi
log=$(mktemp)
status=0
cargo test "${profile[@]}" --test sequences random_change_sequences -- --nocapture 2>&1 | tee "$log" || status=$?
echo
if grep -q '^seed .*FAILED' "$log"; then
    grep '^seed .*FAILED' "$log"
    echo "failing seeds: $(grep -o '^seed [0-9]*: FAILED' "$log" | awk '{print $2}' | tr -d : | tr '\n' ' ')"
elif [[ $status -eq 0 ]]; then
    echo "all $(grep -c '^seed .*: ok' "$log") seeds passed ($steps steps each)"
fi
rm -f "$log"
exit "$status"
