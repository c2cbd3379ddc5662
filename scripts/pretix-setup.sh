#!/usr/bin/env bash
# Installs pretix (a Django shop, from PyPI) in its OWN virtualenv, var/pretix-venv, for the
# online-store tests (okno/stores/tests/test_pretix_shop.py), and migrates its database under
# var/pretix/. The tests start a private pretix server per session and stop it afterwards.
# Skipped loudly when it cannot install; with CI=true that fails the run, as test-services.sh does.
set -euo pipefail
cd "$(dirname "$0")/.."
PRETIX_VERSION=${PRETIX_VERSION:-2026.8.0}
VENV=var/pretix-venv
DATA=var/pretix
fail() {
  echo "!! pretix could not be set up ($1): the real-shop test will be SKIPPED" >&2
  [ "${CI:-}" = "true" ] && exit 1
  exit 0
}
if [ ! -x "$VENV/bin/python" ] || ! "$VENV/bin/python" -c "import pretix" 2>/dev/null; then
  echo "Installing pretix $PRETIX_VERSION into $VENV for the online-store tests..."
  python3 -m venv "$VENV" || fail "python3 -m venv failed"
  "$VENV/bin/pip" install -q "pretix==$PRETIX_VERSION" || fail "pip install pretix==$PRETIX_VERSION failed"
fi
mkdir -p "$DATA/data"
cat > "$DATA/pretix.cfg" <<CFG
[pretix]
instance_name=Okno test shop
url=http://127.0.0.1:8765
datadir=$(pwd)/$DATA/data
trust_x_forwarded_for=off
# The tests' Okno listens on 127.0.0.1: pretix blocks webhooks to private addresses otherwise.
allow_http_to_private_networks=on
[database]
backend=sqlite3
name=$(pwd)/$DATA/data/db.sqlite3
[mail]
from=shop@example.ru
host=127.0.0.1
port=1
CFG
export PRETIX_CONFIG_FILE="$(pwd)/$DATA/pretix.cfg"
"$VENV/bin/python" -m pretix migrate --noinput >/dev/null || fail "pretix migrate failed"
echo "pretix ready in $VENV (config $PRETIX_CONFIG_FILE)"
