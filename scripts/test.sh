#!/bin/sh
# All four test layers (DESIGN.md); stops at the first failing layer.
set -eu
cd "$(dirname "$0")/.."
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"

echo '== 1/4 cargo test: the core, fixtures, virtual time'
# --all-features: the providers and the OpenADR VEN (built as separate wasm modules).
cargo test --locked --quiet --all-features

echo '== 2/4 wasm-pack test --node: the bindings'
wasm-pack test --node --mode no-install -- --locked --test wasm

echo '== 3/4 node --test: the package, the CLI, the packed tarball'
node --test tests/js/

echo '== 4/4 Chromium: the www page'
node --test tests/browser/
