"""Settings → Online stores: the list, a form per kind with labels and help, "Test connection"."""

import pytest
from django.test import Client

from okno.deals.tests.factories import PipelineFactory, stage_of
from okno.people.models import User
from okno.people.tests.factories import UserFactory
from okno.stores.models import StoreConnection
from okno.stores.tests.factories import WOO_SETTINGS, make_connection

pytestmark = pytest.mark.django_db


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_woocommerce_form_creates_a_connection_with_its_status_map(admin_user):
    # given
    pipeline = PipelineFactory()
    client = _client(admin_user)
    page = client.get(f"/stores/new/woocommerce/?pipeline={pipeline.pk}")
    assert page.status_code == 200
    assert 'name="setting_consumer_secret"' in page.content.decode()
    # when
    new, done = stage_of(pipeline, "open", 0), stage_of(pipeline, "won")
    response = client.post(f"/stores/new/woocommerce/?pipeline={pipeline.pk}", {
        "name": "Мебель", "pipeline": pipeline.pk, **{f"setting_{k}": v for k, v in WOO_SETTINGS.items()},
        f"stage_{new.pk}": "processing, pending", f"stage_{done.pk}": "completed"})
    # then
    connection = StoreConnection.objects.get()
    assert response.status_code == 302
    assert connection.status_map == [["processing", new.pk], ["pending", new.pk], ["completed", done.pk]]
    page = client.get(f"/stores/{connection.pk}/").content.decode()
    assert connection.webhook_token in page


def test_a_bad_setting_is_shown_beside_its_field(admin_user):
    pipeline = PipelineFactory()
    page = _client(admin_user).post(f"/stores/new/woocommerce/?pipeline={pipeline.pk}", {
        "name": "Мебель", "pipeline": pipeline.pk, "setting_url": "nope"})
    assert page.status_code == 200
    # in the user's language (ru, the default); the API says it in English
    assert "должно быть адресом вида http(s)://" in page.content.decode()
    assert not StoreConnection.objects.exists()


def test_test_connection_says_why_it_failed(admin_user):
    connection = make_connection(settings={**WOO_SETTINGS, "url": "http://127.0.0.1:9"})
    page = _client(admin_user).post(f"/stores/{connection.pk}/test/")
    assert page.status_code == 200
    assert "ConnectionError" in page.content.decode()


def test_a_manager_may_not_open_the_stores(db):
    manager = UserFactory(role=User.Role.MANAGER)
    assert _client(manager).get("/stores/").status_code == 403
