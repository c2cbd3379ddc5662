"""DOCX -> PDF through one LibreOffice per Okno process, started on first use and reused.

Starting soffice costs ~1-2 s and ~150 MB; converting a one-page document in a warm one costs
tens of milliseconds (bench/bench_documents.py measures both). So each process that converts
(the worker, and a web process when a PDF is asked for inline) keeps one bridge
(okno/documents/office_bridge.py, run by Debian's Python that has python3-uno) and one soffice
behind it, with its own profile directory: two soffice on one profile refuse each other.

Conversions are serialised by a lock (one soffice renders one document at a time anyway). A
conversion that overruns its timeout kills the bridge and soffice (their own process group);
the next conversion starts a fresh one, so a document that hangs LibreOffice costs one timeout,
not the process.
"""

import atexit
import json
import os
import select
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from pathlib import Path

from django.conf import settings

BRIDGE = Path(__file__).with_name("office_bridge.py")
# Debian's interpreter: python3-uno is built for it, not for the virtualenv's Python.
OFFICE_PYTHON = os.environ.get("OKNO_OFFICE_PYTHON", getattr(settings, "OKNO_OFFICE_PYTHON", "/usr/bin/python3"))
SOFFICE = os.environ.get("OKNO_SOFFICE", getattr(settings, "OKNO_SOFFICE", "/usr/bin/soffice"))
# A cold start measured 1-3 s on 2 busy cores; 60 s leaves room for a loaded machine.
START_TIMEOUT_SECONDS = 60.0
# A few pages render in well under a second; a template that takes longer is hung or hostile.
CONVERT_TIMEOUT_SECONDS = float(os.environ.get("OKNO_PDF_TIMEOUT_SECONDS", "30"))


class OfficeError(Exception):
    """LibreOffice is missing, did not start, refused the file or ran out of time."""


def office_available() -> bool:
    return Path(SOFFICE).exists() and Path(OFFICE_PYTHON).exists()


class Office:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._proc: subprocess.Popen | None = None
        self._profile: str | None = None
        self.starts = 0

    def _readline(self, timeout: float) -> dict:
        assert self._proc is not None and self._proc.stdout is not None
        ready, _w, _x = select.select([self._proc.stdout], [], [], timeout)
        if not ready:
            raise TimeoutError
        line = self._proc.stdout.readline()
        if not line:
            raise OfficeError("LibreOffice's bridge ended: " + self._stderr_tail())
        return json.loads(line)

    def _stderr_tail(self) -> str:
        try:
            return (Path(self._profile) / "bridge.log").read_text(errors="replace")[-1500:].strip() or "no output"
        except (OSError, TypeError):
            return "no output"

    def _start(self) -> None:
        if not office_available():
            raise OfficeError(f"LibreOffice is not installed ({SOFFICE}); run scripts/office-deps.sh")
        self._profile = tempfile.mkdtemp(prefix="okno-office-")
        pipe = f"okno_office_{os.getpid()}_{self.starts}"
        # Debian's Python must not see the virtualenv's packages (PYTHONPATH, PYTHONHOME).
        env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
        with open(Path(self._profile) / "bridge.log", "wb") as log:
            # -I: isolated, so the script's own folder (okno/documents holds a selectors.py) does
            # not shadow the standard library.
            self._proc = subprocess.Popen([OFFICE_PYTHON, "-I", str(BRIDGE), SOFFICE, pipe, self._profile],
                                          stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log,
                                          text=True, bufsize=1, start_new_session=True, env=env)
        self.starts += 1
        try:
            answer = self._readline(START_TIMEOUT_SECONDS)
        except TimeoutError:
            self._kill()
            raise OfficeError("LibreOffice did not start in time") from None
        if not answer.get("ok"):
            self._kill()
            raise OfficeError(answer.get("error") or "LibreOffice did not start")

    def _kill(self) -> None:
        proc, self._proc = self._proc, None
        if proc is not None:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            proc.wait()
        if self._profile:
            shutil.rmtree(self._profile, ignore_errors=True)
            self._profile = None

    def stop(self) -> None:
        """Closes LibreOffice gracefully (the bridge ends it when its stdin closes)."""
        with self._lock:
            proc = self._proc
            if proc is None:
                return
            try:
                proc.stdin.close()
                proc.wait(timeout=10)
            except Exception:  # hung on the way out: killed like a hung conversion
                pass
            self._kill()

    def convert(self, src: Path, dst: Path, *, timeout: float = CONVERT_TIMEOUT_SECONDS) -> None:
        """Writes `dst` (PDF) from `src` (DOCX); raises OfficeError naming the reason."""
        with self._lock:
            if self._proc is None or self._proc.poll() is not None:
                self._kill()
                self._start()
            try:
                self._proc.stdin.write(json.dumps({"src": str(src), "dst": str(dst)}) + "\n")
                self._proc.stdin.flush()
                answer = self._readline(timeout)
            except TimeoutError:
                self._kill()
                raise OfficeError(f"LibreOffice did not convert the document within {timeout:g} s") from None
            except (BrokenPipeError, OSError) as exc:
                self._kill()
                raise OfficeError(f"LibreOffice's bridge broke: {exc}") from exc
            if not answer.get("ok"):
                raise OfficeError(answer.get("error") or "LibreOffice refused the document")
            if not dst.exists() or dst.stat().st_size == 0:
                raise OfficeError("LibreOffice wrote no PDF")


_office = Office()
atexit.register(_office.stop)


def office() -> Office:
    """This process's LibreOffice (started on first conversion)."""
    return _office


def docx_to_pdf(docx: bytes, *, timeout: float = CONVERT_TIMEOUT_SECONDS) -> bytes:
    """The PDF of a DOCX, rendered by this process's reused LibreOffice."""
    with tempfile.TemporaryDirectory(prefix="okno-pdf-") as tmp:
        src, dst = Path(tmp) / "document.docx", Path(tmp) / "document.pdf"
        src.write_bytes(docx)
        started = time.monotonic()
        _office.convert(src, dst, timeout=timeout)
        _office.last_seconds = time.monotonic() - started
        return dst.read_bytes()


def docx_to_pdf_cold(docx: bytes, *, timeout: float = 120.0) -> bytes:
    """The same through a fresh `soffice --convert-to pdf` (the benchmark's baseline only)."""
    with tempfile.TemporaryDirectory(prefix="okno-pdf-cold-") as tmp:
        src = Path(tmp) / "document.docx"
        src.write_bytes(docx)
        profile = Path(tmp) / "profile"
        subprocess.run([SOFFICE, "--headless", "--norestore", "--nolockcheck",
                        f"-env:UserInstallation={profile.as_uri()}", "--convert-to", "pdf", "--outdir", tmp,
                        str(src)], check=True, timeout=timeout, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
        return (Path(tmp) / "document.pdf").read_bytes()
