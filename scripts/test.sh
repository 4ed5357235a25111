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

echo '== 3/4 the types generated from Rust, then node --test: the package, the CLI, the packed tarball'
# The checked-in js/types.generated.d.ts must be what this build emits, and
# the package's declarations must compile against it.
node scripts/types.mjs --check
node_modules/.bin/tsc -p tests/types
node --test tests/js/

echo '== 4/4 Chromium: the www page'
node --test tests/browser/
