import pytest


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    """The demo's call recordings are written to storage: keep them out of var/."""
    settings.MEDIA_ROOT = tmp_path / "media"
