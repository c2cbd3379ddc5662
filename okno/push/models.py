from django.conf import settings
from django.db import models


class Push(models.Model):
    """Something to show one user's open browser tabs at once (a screen pop when a call rings).

    A row, not a message on a bus: the web process that holds the user's connection may be any
    of many, and each reads new rows by id (okno.push.hub). Rows are kept a day for reconnects
    (Last-Event-ID) and then forgotten; what they announce lives in its own tables.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=32)
    # What the push is about (the call); a second push of the same kind and key is not sent.
    key = models.CharField(max_length=64)
    payload = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "kind", "key"], name="push_once")]
