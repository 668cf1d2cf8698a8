#!/usr/bin/env bash
# Debian packages the tests and benchmarks use: nginx (benchmark upstream),
# wrk (load generator), redis-server (shared state), prometheus (the real
# scraper in tests/test_prometheus.py). Installs only what is
# missing; needs root (CI and the dev boxes run as root).
set -euo pipefail

missing=()
command -v nginx >/dev/null || missing+=(nginx)
command -v wrk >/dev/null || missing+=(wrk)
command -v redis-server >/dev/null || missing+=(redis-server)
command -v prometheus >/dev/null || missing+=(prometheus)
if [ ${#missing[@]} -gt 0 ]; then
  echo "[setup-system] apt-get install ${missing[*]}" >&2
  sudo=""; [ "$(id -u)" = 0 ] || sudo=sudo
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
fi
