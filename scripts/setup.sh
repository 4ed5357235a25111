#!/bin/sh
# Install what wattbridge needs to build (`setup.sh build`) or to build and
# test (`setup.sh test`), then build pkg/. Idempotent: each step checks first,
# so a second run takes seconds. Needs only rustup/cargo, node/npm and, for the
# browser tests, apt-get (as root or through sudo).
set -eu
cd "$(dirname "$0")/.."
mode=${1:-build}
say() { printf 'setup: %s\n' "$*" >&2; }

export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"

# 1. The wasm32 target.
if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  say "adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown
fi

# 2. wasm-pack.
if ! command -v wasm-pack >/dev/null 2>&1; then
  say "installing wasm-pack (about 3 minutes, once)"
  cargo install wasm-pack --locked
fi

# 3. wasm-bindgen CLI at exactly the version in Cargo.lock (the crate pins it).
want=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/"/, "", $3); print $3; exit }' Cargo.lock)
have=$(wasm-bindgen --version 2>/dev/null | awk '{print $2}' || true)
if [ "$have" != "$want" ]; then
  say "installing wasm-bindgen-cli $want (about 3 minutes, once)"
  # --locked fails on this registry mirror (a pinned dependency is missing): fall back.
  cargo install wasm-bindgen-cli --version "$want" --locked 2>/dev/null ||
    cargo install wasm-bindgen-cli --version "$want"
fi

# 4. npm packages (wasm-opt from `binaryen`, playwright-core, the CLI's deps).
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  say "installing npm packages"
  npm ci --no-audit --no-fund --loglevel=error
fi

# Debian packages, for the test layers only (as root or through sudo).
apt_install() {
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get install -y --no-install-recommends "$@" >/dev/null 2>&1 || {
    $sudo apt-get update -qq && $sudo apt-get install -y --no-install-recommends "$@" >/dev/null
  }
}

# 5. Chromium and chromedriver from Debian, for the browser tests only.
if [ "$mode" = test ] && [ ! -x /usr/bin/chromium ]; then
  say "installing chromium and chromium-driver from Debian (about 40 s)"
  apt_install chromium chromium-driver
fi

# 5b. Mosquitto from Debian: the real broker of the MQTT tests (the package
# carries mosquitto_passwd; the tests start their own instance on loopback).
if [ "$mode" = test ] && { [ ! -x /usr/sbin/mosquitto ] || ! command -v mosquitto_passwd >/dev/null 2>&1; }; then
  say "installing mosquitto from Debian"
  apt_install mosquitto
fi

# 6. The OpenADR end-to-end tests: the openssl CLI makes their throw-away
# certificates, and the OpenLEADR VTN (PyPI, pinned; 0.5.36 imports with
# current pyOpenSSL/cryptography) runs in its own virtualenv.
if [ "$mode" = test ] && ! command -v openssl >/dev/null 2>&1; then
  say "installing openssl from Debian"
  apt_install openssl
fi
# A fresh virtualenv in DIR (Python 3.11 where there is one).
fresh_venv() {
  python=$(command -v python3.11 || command -v python3)
  rm -rf "$1"
  if ! "$python" -m venv "$1" >/dev/null 2>&1; then
    # Debian's python3 ships venv (and ensurepip) separately.
    apt_install python3-venv
    rm -rf "$1"
    "$python" -m venv "$1"
  fi
}
if [ "$mode" = test ] && ! .venv-openleadr/bin/python -c 'import openleadr' >/dev/null 2>&1; then
  say "installing the OpenLEADR VTN (openleadr==0.5.36) into .venv-openleadr (about 10 s)"
  fresh_venv .venv-openleadr
  .venv-openleadr/bin/pip install --quiet --disable-pip-version-check openleadr==0.5.36
fi

# 7. The Home Assistant end-to-end tests: a real Home Assistant (PyPI,
# pinned: 2024.3.3 is the newest release for Python 3.11) in its own
# virtualenv, with `josepy<2` (newer josepy breaks HA's acme import and every
# HTTP request answers 500) and the requirements of the integrations a minimal
# configuration loads, which HA would otherwise pip-install on its first start
# (the tests start it with --skip-pip). 1-2 minutes, once; the stamp file is
# written last, so an interrupted install is redone.
# The stamp names what tests/ha/requirements.py asks for, so a change reinstalls.
ha_stamp=.venv-ha/.wattbridge-homeassistant-2024.3.3-mqtt
if [ "$mode" = test ] && [ ! -f "$ha_stamp" ]; then
  say "installing Home Assistant 2024.3.3 into .venv-ha (1-2 minutes, once)"
  fresh_venv .venv-ha
  .venv-ha/bin/pip install --quiet --disable-pip-version-check homeassistant==2024.3.3 'josepy<2'
  # shellcheck disable=SC2046
  .venv-ha/bin/pip install --quiet --disable-pip-version-check $(.venv-ha/bin/python tests/ha/requirements.py)
  touch "$ha_stamp"
fi

# 8. The package itself.
say "building pkg/"
sh scripts/build.sh
