"""Files that live only as long as the transaction that wrote their row.

A document's DOCX and PDF are written to storage before their row commits (the row names the
stored file). When that transaction, or an outer one such as the robots drain's, rolls back,
the files must go too, or storage fills with documents no row knows (and a number given back
by the rollback would be written beside its orphan under a suffixed name).

Django has `transaction.on_commit` but no on-rollback hook. A rollback, of the whole
transaction or of the savepoint the callback was registered in, drops the registered callbacks
without calling them; a commit calls them and then drops them. So the file's removal is a
finaliser of the on-commit callback object: called, it marks the files kept; dropped uncalled,
it removes them. CPython frees the dropped callback at once (reference counting), so the files
go as the rollback returns; `weakref.finalize` also runs at interpreter exit, when a
transaction still open is lost anyway.
"""

import logging
import weakref

from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models.fields.files import FieldFile

log = logging.getLogger(__name__)


class _KeepOnCommit:
    __slots__ = ("state", "__weakref__")

    def __init__(self, state: dict) -> None:
        self.state = state

    def __call__(self) -> None:
        self.state["committed"] = True


def _remove_unless_committed(storage, name: str, state: dict) -> None:
    if state["committed"]:
        return
    try:
        storage.delete(name)
    except Exception:  # a finaliser must not raise; the file is only an orphan then
        log.warning("file %s of a rolled-back transaction not removed", name, exc_info=True)


def file_save_for_transaction(field_file: FieldFile, name: str, data: bytes, *, using: str | None = None) -> None:
    """Stores `data` on `field_file` (the row is not saved) and removes it again if the current
    transaction rolls back; outside a transaction the file is kept at once."""
    field_file.save(name, ContentFile(data), save=False)
    state = {"committed": False}
    keep = _KeepOnCommit(state)
    weakref.finalize(keep, _remove_unless_committed, field_file.storage, field_file.name, state)
    transaction.on_commit(keep, using=using)
