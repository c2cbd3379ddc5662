"""/api/v1/pipelines."""

from ninja import Router

router = Router(tags=["pipelines"])
