"""/api/v1/robots."""

from ninja import Router

router = Router(tags=["robots"])
