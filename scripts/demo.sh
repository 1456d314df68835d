#!/usr/bin/env bash
# Quick start: build landfall, validate every environment of the example landing zone, and show the
# sandbox environment's dependency graph.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

echo "==> cargo build --release"
cargo build --release --locked --quiet
bin="${CARGO_TARGET_DIR:-target}/release/landfall"

for env in global dev stg prod sandbox; do
    echo "==> landfall validate --env $env"
    "$bin" validate --env "$env"
done

echo "==> landfall graph --env sandbox --format mermaid (first lines)"
"$bin" graph --env sandbox --format mermaid | head -n 20
echo "..."
echo "Render the whole graph with: $bin graph --env sandbox --format dot | dot -Tsvg > sandbox.svg"
