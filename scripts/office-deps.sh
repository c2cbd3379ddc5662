#!/usr/bin/env bash
# Installs Debian's headless LibreOffice (Writer only, no X11) with its Python-UNO bridge and
# fonts carrying Cyrillic, for the documents app's DOCX -> PDF conversion. The bridge
# (python3-uno) belongs to Debian's /usr/bin/python3: okno/documents/office.py runs it there.
set -euo pipefail
if [ -x /usr/bin/soffice ] && /usr/bin/python3 -c "import uno" 2>/dev/null; then exit 0; fi
if [ "$(id -u)" != "0" ]; then SUDO=sudo; else SUDO=; fi
echo "Installing Debian's headless LibreOffice for documents..."
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends \
  libreoffice-core-nogui libreoffice-writer-nogui python3-uno \
  fonts-dejavu-core fonts-liberation >/dev/null
