"""/api/v1/webhook-endpoints."""

from ninja import Router

router = Router(tags=["webhook-endpoints"])
