#!/usr/bin/env bash
# Refresh cost: applies the sandbox environment to the local emulator, then makes a no-op plan with
# --stats and reports API requests per managed resource (target: at most 0.5).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
cargo build --release --locked --quiet --bin landfall
bin="${CARGO_TARGET_DIR:-$PWD/target}/release/landfall"
moto_server="$(./scripts/moto-venv.sh)"
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
MOTO_IAM_LOAD_MANAGED_POLICIES=true "$moto_server" -H 127.0.0.1 -p "$port" >/dev/null 2>&1 &
moto_pid=$!
work="$(mktemp -d)"
trap 'kill $moto_pid 2>/dev/null; rm -rf "$work"' EXIT
sleep 2
cp -r landfall.toml environments stacks modules policies "$work/"
export AWS_ENDPOINT_URL="http://127.0.0.1:$port" AWS_ACCESS_KEY_ID=bench AWS_SECRET_ACCESS_KEY=bench
export AWS_REGION=eu-west-1 AWS_EC2_METADATA_DISABLED=true AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null
"$bin" -C "$work" apply --env sandbox --auto-approve >/dev/null 2>&1
resources=$("$bin" -C "$work" state list --env sandbox | wc -l)
start=$(date +%s.%N)
"$bin" -C "$work" plan --env sandbox --detailed-exitcode --stats >"$work/plan.out" 2>"$work/plan.err" || {
    echo "the plan after apply was not empty:"; cat "$work/plan.out"; exit 1; }
end=$(date +%s.%N)
cat "$work/plan.err"
requests=$(awk '/^  total/ {print $2}' "$work/plan.err")
python3 -c "import sys; r,n,s,e=int('$requests'),int('$resources'),float('$start'),float('$end'); print(f'no-op plan: {r} requests for {n} managed resources = {r/n:.2f} per resource, {e-s:.2f} s')"
