#!/usr/bin/env bash
# Installs the servers the e-mail channel's tests talk to: Debian's Dovecot (IMAP).
# Only the package is installed; the tests start a PRIVATE Dovecot per session, with its own
# config, port and Maildir under a temporary directory, and never touch the system service.
# (SMTP in tests is aiosmtpd, a Python package from requirements.txt.)
set -euo pipefail
if [ -x /usr/sbin/dovecot ] && [ -e /usr/lib/dovecot/imap ]; then exit 0; fi
if [ "$(id -u)" != "0" ]; then SUDO=sudo; else SUDO=; fi
echo "Installing Debian's dovecot-imapd for the e-mail tests..."
if ! { $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq dovecot-imapd >/dev/null; }
then
  # The tests themselves fail with CI=true and skip loudly otherwise; say why here too.
  echo "!! could not install dovecot-imapd: the e-mail tests will not run against a real IMAP server" >&2
  [ "${CI:-}" = "true" ] && exit 1
fi
exit 0
