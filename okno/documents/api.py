"""The documents REST API (mounted at /api/v1 by okno/api.py)."""

from ninja import Router

router = Router(tags=["documents"])
