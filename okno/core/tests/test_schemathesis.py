"""The API against its own OpenAPI schema, with schemathesis, in-process (WSGI).

For every operation, a few requests generated from the schema, as the demo company's
administrator: valid ones naming rows that exist (a small demo company is seeded), then invalid
ones. Each answer's status must be documented, its body must match the documented schema, and
none may be a server error. Bounded and deterministic (derandomized Hypothesis, a handful of
examples per operation and mode, no shrinking), so it runs in `make test` on both databases
(about 1.5 minutes each)."""

import logging
import re

import pytest
import schemathesis
from django.apps import apps
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections, transaction
from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as hypothesis_settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance, status_code_conformance

from okno.people.models import ApiToken, User

pytestmark = pytest.mark.django_db

EXAMPLES = 5  # per operation and generation mode
CHECKS = [not_a_server_error, status_code_conformance, response_schema_conformance]
# A path parameter -> the model whose row it names; valid requests name an existing one.
ROWS = {
    "contact_id": "contacts.Contact", "company_id": "contacts.Company", "merge_id": "contacts.ContactMerge",
    "job_id": "contacts.ImportJob", "token_id": "people.ApiToken", "channel_id": "inbox.Channel",
    "event_id": "inbox.InboundEvent", "conversation_id": "inbox.Conversation", "lead_id": "deals.Lead",
    "reason_id": "deals.LostReason", "calendar_id": "core.Calendar", "pipeline_id": "deals.Pipeline",
    "deal_id": "deals.Deal", "robot_id": "robots.Robot", "run_id": "robots.RobotRun",
    "endpoint_id": "outbox.WebhookEndpoint", "template_id": "outbox.MessageTemplate", "call_id": "telephony.Call",
    "item_id": "work.WorkItem",
}


@pytest.fixture
def wsgi_app():
    """Django's WSGI handler inside the test's transaction: like Django's test client, keep the
    request signals from closing the connection that holds it."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    # Hundreds of refused requests would each log a warning; the failures below say what matters.
    request_log = logging.getLogger("django.request")
    level, request_log.level = request_log.level, logging.CRITICAL
    yield WSGIHandler()
    request_log.level = level
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def company_admin(db) -> User:
    from okno.demo import company as demo

    demo.demo_seed(contacts=60, seed=3)
    return User.objects.get(username=demo.DEMO_ADMIN)


def _existing_rows() -> dict[str, int]:
    rows = {}
    for name, label in ROWS.items():
        pk = apps.get_model(label).objects.order_by("pk").values_list("pk", flat=True).first()
        if pk is not None:
            rows[name] = pk
    stage = apps.get_model("deals.Stage").objects.order_by("pk").first()
    if stage is not None:  # a stage is named with its pipeline
        rows.update(stage_id=stage.pk, pipeline_id=stage.pipeline_id)
    return rows


def _check(operation, mode: GenerationMode, headers: dict, rows: dict[str, int]) -> list[str]:
    failures = []
    names = re.findall(r"{(\w+)}", operation.path)
    known = {n: rows[n] for n in names if n in rows}
    path_parameters = known if mode == GenerationMode.POSITIVE and len(known) == len(names) and names else None

    @given(case=operation.as_strategy(generation_mode=mode, path_parameters=path_parameters))
    @hypothesis_settings(max_examples=EXAMPLES, derandomize=True, database=None, deadline=None,
                         phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
    def run(case):
        # Each request from the same rows, in a savepoint rolled back after it: a generated DELETE
        # or PATCH must not spoil the next ones, nor one refused statement PostgreSQL's transaction.
        with transaction.atomic():
            response = case.call(headers=headers)
            transaction.set_rollback(True)
        try:
            case.validate_response(response, checks=CHECKS)
        except (AssertionError, BaseExceptionGroup) as exc:  # collected, reported together below
            failures.append(f"{operation.label} [{mode}] {case.method} {case.formatted_path} "
                            f"query={case.query} body={str(case.body)[:200]}: {exc}".strip()[:1500])

    run()
    return failures


def test_every_operation_answers_as_its_schema_says(company_admin, wsgi_app):
    # given the schema as the app serves it, a small company, and its administrator's token
    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", wsgi_app)
    headers = {"Authorization": f"Bearer {ApiToken.issue(company_admin)}"}
    rows = _existing_rows()

    # when every operation is called with generated requests
    failures, operations = [], 0
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            failures += _check(operation, mode, headers, rows)

    # then every answer was documented, matched its schema, and none was a server error
    assert operations > 80
    assert not failures, "\n\n".join(failures)
