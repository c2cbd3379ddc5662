"""Every foreign key to Contact must say what a merge does with its rows."""

from django.apps import apps
from django.db import models

from okno.contacts import merge_registry
from okno.contacts.models import Contact


def contact_foreign_keys() -> list[tuple[type[models.Model], str]]:
    """(model, field) for each foreign key to Contact, M2M through tables included."""
    found = []
    for model in apps.get_models(include_auto_created=True):
        for field in model._meta.concrete_fields:
            if field.is_relation and field.related_model is Contact:
                found.append((model, field.name))
    return found


def unregistered() -> list[str]:
    return [f"{m._meta.label}.{f}" for m, f in contact_foreign_keys() if not merge_registry.is_registered(m, f)]


def test_every_foreign_key_to_contact_is_registered():
    # given every installed model
    # when the foreign keys to Contact are walked
    missing = unregistered()
    # then each one is registered with the merge registry
    assert missing == [], (
        "Register these with okno.contacts.merge_registry.register(model, field, action=...) in your app's "
        f"AppConfig.ready(), see docs/merge.md: {missing}"
    )


def test_the_walk_finds_the_known_keys_and_through_tables():
    # given the models of contacts and timeline
    labels = {f"{m._meta.label}.{f}" for m, f in contact_foreign_keys()}
    # then the walk sees plain keys, the self key, the M2M through table and another app's key
    assert {"contacts.ContactPhone.contact", "contacts.Contact.merged_into", "timeline.Activity.contact",
            f"{Contact.tags.through._meta.label}.contact"} <= labels


def test_a_forgotten_registration_is_reported(monkeypatch):
    # given the registry without the rule for phones
    rules = dict(merge_registry._rules)
    rules.pop("contacts.ContactPhone.contact")
    monkeypatch.setattr(merge_registry, "_rules", rules)
    # then the walk names it
    assert unregistered() == ["contacts.ContactPhone.contact"]


def test_every_registration_points_at_contact():
    # a rule whose field does not lead to Contact would move nothing and hide the mistake
    for rule in merge_registry.rules():
        field = rule.model._meta.get_field(rule.field)
        assert field.related_model is Contact, rule.label
        assert rule.action in ("move", "ignore"), rule.label
