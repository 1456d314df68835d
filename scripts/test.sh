#!/usr/bin/env bash
# The test suite, as CI runs it: formatting, lints, then unit and integration tests.
# Works on a fresh machine with a Rust toolchain (rustup); crates come from crates.io via Cargo.lock.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

if ! command -v cargo >/dev/null; then
    echo "error: cargo not found; install Rust with rustup (https://rustup.rs)" >&2
    exit 1
fi
for component in rustfmt clippy; do
    if ! cargo "${component/rustfmt/fmt}" --version >/dev/null 2>&1; then
        rustup component add "$component"
    fi
done

echo "==> local AWS emulator (pinned moto in .venv/)"
./scripts/moto-venv.sh >/dev/null
echo "==> gitlab-ci-local (pinned in tools/gitlab-ci-local, for tests/pipeline.rs)"
if [ ! -x tools/gitlab-ci-local/node_modules/.bin/gitlab-ci-local ]; then
    npm ci --prefix tools/gitlab-ci-local --no-audit --no-fund >/dev/null
fi
missing=()
for tool in git rsync jq; do
    command -v "$tool" >/dev/null || missing+=("$tool")
done
if [ ${#missing[@]} -gt 0 ]; then
    # Debian packages the GitLab pipeline test needs (gitlab-ci-local copies the checkout with rsync).
    sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
    if command -v apt-get >/dev/null; then
        echo "==> installing ${missing[*]} (Debian packages)"
        $sudo apt-get update -qq >/dev/null && $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
    else
        echo "error: ${missing[*]} not found (tests/pipeline.rs runs the GitLab pipeline with them)" >&2
        exit 1
    fi
fi
echo "==> cargo fmt --check"
cargo fmt --all -- --check
echo "==> cargo clippy"
cargo clippy --locked --all-targets -- -D warnings
echo "==> cargo test"
cargo test --locked
