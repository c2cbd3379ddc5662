"""The bridge to one long-lived headless LibreOffice: run by Debian's /usr/bin/python3, which
has python3-uno (Okno's virtualenv Python cannot load it), never imported by Okno itself.

It starts soffice listening on a private pipe, connects over UNO, answers "ready", then reads
one JSON request per line on stdin ({"src": docx path, "dst": pdf path}) and answers one JSON
line per request ({"ok": true} or {"ok": false, "error": ...}). When stdin closes it shuts
LibreOffice down. okno/documents/office.py owns its life (start once, reuse, kill on timeout).

Untrusted templates: documents load hidden, with macros never executed and links to other
files or URLs never updated (MacroExecutionMode NEVER_EXECUTE, UpdateDocMode NO_UPDATE).
"""

import json
import os
import subprocess
import sys
import time

import uno  # noqa: F401  (Debian's python3-uno)
from com.sun.star.beans import PropertyValue
from com.sun.star.connection import NoConnectException

NEVER_EXECUTE = 0  # com.sun.star.document.MacroExecMode.NEVER_EXECUTE
NO_UPDATE = 0  # com.sun.star.document.UpdateDocMode.NO_UPDATE


def prop(name, value):
    p = PropertyValue()
    p.Name, p.Value = name, value
    return p


def main() -> int:
    soffice, pipe, profile = sys.argv[1], sys.argv[2], sys.argv[3]
    office = subprocess.Popen(
        [soffice, "--headless", "--invisible", "--nologo", "--norestore", "--nodefault", "--nolockcheck",
         "--nofirststartwizard", f"-env:UserInstallation={uno.systemPathToFileUrl(profile)}",
         f"--accept=pipe,name={pipe};urp;StarOffice.ComponentContext"],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    local = uno.getComponentContext()
    resolver = local.ServiceManager.createInstanceWithContext("com.sun.star.bridge.UnoUrlResolver", local)
    ctx = None
    deadline = time.monotonic() + 60
    while ctx is None:
        try:
            ctx = resolver.resolve(f"uno:pipe,name={pipe};urp;StarOffice.ComponentContext")
        except NoConnectException:
            if office.poll() is not None or time.monotonic() > deadline:
                print(json.dumps({"ok": False, "error": "LibreOffice did not start"}), flush=True)
                return 1
            time.sleep(0.05)
    desktop = ctx.ServiceManager.createInstanceWithContext("com.sun.star.frame.Desktop", ctx)
    print(json.dumps({"ok": True, "ready": True, "pid": office.pid}), flush=True)
    load = (prop("Hidden", True), prop("ReadOnly", True), prop("MacroExecutionMode", NEVER_EXECUTE),
            prop("UpdateDocMode", NO_UPDATE))
    export = (prop("FilterName", "writer_pdf_Export"),)
    for line in sys.stdin:
        try:
            req = json.loads(line)
            doc = desktop.loadComponentFromURL(uno.systemPathToFileUrl(os.path.abspath(req["src"])), "_blank", 0, load)
            if doc is None:
                raise RuntimeError("LibreOffice could not open the file")
            try:
                doc.storeToURL(uno.systemPathToFileUrl(os.path.abspath(req["dst"])), export)
            finally:
                doc.close(True)
            answer = {"ok": True}
        except Exception as exc:  # one bad document must not end the bridge
            answer = {"ok": False, "error": f"{type(exc).__name__}: {exc}"[:500]}
        print(json.dumps(answer), flush=True)
    try:
        desktop.terminate()
    except Exception:  # already gone: the bridge drops with it
        pass
    try:
        office.wait(timeout=10)
    except subprocess.TimeoutExpired:
        office.kill()
    return 0


if __name__ == "__main__":
    sys.exit(main())
