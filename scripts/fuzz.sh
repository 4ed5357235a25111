#!/bin/sh
# Fuzz every parser (fuzz/README.md): build the harness optimised, with panics
# that unwind and overflow checks on, then run it. Arguments go to the harness:
#   sh scripts/fuzz.sh                      1,000,000 inputs per target
#   sh scripts/fuzz.sh --seconds 60 enedis  one target, at most a minute
# Not part of `npm test`; failures land in tests/fixtures/fuzz-regressions/.
set -eu
cd "$(dirname "$0")/.."
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"
# The JavaScript targets import the package's modules, which load pkg/.
[ -f pkg/wattbridge_bg.wasm ] || sh scripts/build.sh
cargo build --quiet --locked --profile fuzz --all-features --example fuzz
exec target/fuzz/examples/fuzz "$@"
