#!/usr/bin/env bash
# Installs Debian's wrk, the HTTP load generator of bench_ingest, when it is missing: written in C,
# it takes a tenth of the CPU per request of the bench's Python client, CPU the measured server
# shares on a two-core machine (docs/benchmarks.md, "Inbox ingest").
set -euo pipefail
if command -v wrk >/dev/null; then exit 0; fi
if [ "$(id -u)" != "0" ]; then SUDO=sudo; else SUDO=; fi
echo "Installing Debian's wrk for the ingest benchmark..."
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq wrk >/dev/null
