"""/api/v1/deals."""

from ninja import Router

router = Router(tags=["deals"])
