#!/bin/sh
# Build the wasm packages: pkg/ (the energy-data providers, the default
# features) and pkg-openadr/ (the OpenADR VEN alone, so neither pays for the
# other). One `wasm-pack build --target web` each serves Node and browsers. wasm-opt comes from the npm `binaryen` package (wasm-pack's
# own download is unreachable here and Debian's binaryen 108 breaks modules).
set -eu
cd "$(dirname "$0")/.."

profile=${WATTBRIDGE_BUILD_PROFILE:-release}
# --mode no-install: a wasm-bindgen CLI that does not match Cargo.lock fails
# fast instead of starting a hidden download.

# Features the Rust wasm32 target enables by default; wasm-opt must accept them.
features="--enable-bulk-memory --enable-bulk-memory-opt --enable-nontrapping-float-to-int \
  --enable-sign-ext --enable-mutable-globals --enable-reference-types --enable-multivalue"

# build OUT_DIR OUT_NAME [cargo args...]
build() {
  out=$1 name=$2
  shift 2
  wasm-pack --quiet build --target web --"$profile" --mode no-install --out-dir "$out" --out-name "$name" --no-pack -- "$@"
  if [ "$profile" = release ]; then
    # shellcheck disable=SC2086
    # --converge repeats -Oz until nothing shrinks (~1 KB gzip for a few seconds).
    node_modules/.bin/wasm-opt -Oz --converge $features --strip-debug --strip-producers \
      "$out/${name}_bg.wasm" -o "$out/${name}_bg.opt.wasm"
    mv "$out/${name}_bg.opt.wasm" "$out/${name}_bg.wasm"
  fi
  # wasm-pack writes a catch-all .gitignore, which would hide the files from
  # `npm pack`; the top-level .gitignore already keeps them out of git.
  rm -f "$out/.gitignore" "$out/package.json" "$out/README.md"
}

build pkg wattbridge
build pkg-openadr wattbridge_openadr --no-default-features --features openadr

# The browser build of mqtt.js for pages and the extension, which have no
# bundler to resolve 'mqtt' (Node and bundlers import the package itself).
mkdir -p www/vendor
cp node_modules/mqtt/dist/mqtt.esm.js www/vendor/mqtt.esm.js
cp node_modules/mqtt/LICENSE.md www/vendor/mqtt.LICENSE.md

# uPlot (MIT, ~40 KB gzipped), the page's charts: an extension may not load
# remote code, so its ESM build, CSS and licence ship in www/vendor too.
cp node_modules/uplot/dist/uPlot.esm.js www/vendor/uPlot.esm.js
cp node_modules/uplot/dist/uPlot.min.css www/vendor/uPlot.min.css
cp node_modules/uplot/LICENSE www/vendor/uPlot.LICENSE
