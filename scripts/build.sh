#!/bin/sh
# Build the wasm package into pkg/: one `wasm-pack build --target web` serves
# Node and browsers. wasm-opt comes from the npm `binaryen` package (wasm-pack's
# own download is unreachable here and Debian's binaryen 108 breaks modules).
set -eu
cd "$(dirname "$0")/.."

profile=${WATTBRIDGE_BUILD_PROFILE:-release}
# --mode no-install: a wasm-bindgen CLI that does not match Cargo.lock fails
# fast instead of starting a hidden download.
wasm-pack --quiet build --target web --"$profile" --mode no-install --out-dir pkg --no-pack

# Features the Rust wasm32 target enables by default; wasm-opt must accept them.
features="--enable-bulk-memory --enable-bulk-memory-opt --enable-nontrapping-float-to-int \
  --enable-sign-ext --enable-mutable-globals --enable-reference-types --enable-multivalue"
if [ "$profile" = release ]; then
  # --converge repeats -Oz until nothing shrinks (~1 KB gzip for a few seconds).
  # shellcheck disable=SC2086
  node_modules/.bin/wasm-opt -Oz --converge $features --strip-debug --strip-producers \
    pkg/wattbridge_bg.wasm -o pkg/wattbridge_bg.opt.wasm
  mv pkg/wattbridge_bg.opt.wasm pkg/wattbridge_bg.wasm
fi
# wasm-pack writes a catch-all .gitignore into pkg/, which would hide the
# files from `npm pack`; the top-level .gitignore already keeps pkg/ out of git.
rm -f pkg/.gitignore pkg/package.json pkg/README.md
