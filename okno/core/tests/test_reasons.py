"""reason_text: the services' English reasons, fixed and quoting values, as pages show them."""

import re

import pytest
from django.utils import translation
from django.utils.translation import trans_real

from okno.core.reasons import KNOWN_REASONS, PATTERNED_REASONS, reason_text

# (reason as a service gives it, the msgid that translates it, the values the page must keep)
PATTERNED_SAMPLES = [
    ("required before entering “Подтверждён”", "required before entering “%(value)s”", ["Подтверждён"]),
    ("unknown field: delivery_date", "unknown field: %(value)s", ["delivery_date"]),
    ("must be 1 to 300 characters", "must be 1 to %(value)s characters", ["300"]),
    ("at most 2000 characters", "at most %(value)s characters", ["2000"]),
    ("an idempotency key of 1-200 characters without spaces or dots",
     "an idempotency key of 1-%(value)s characters without spaces or dots", ["200"]),
    ("unknown event; known: *, deal.created, lead.created", "unknown event; known: %(value)s",
     ["*, deal.created, lead.created"]),
    ("renders to more than 1000 characters", "renders to more than %(value)s characters", ["1000"]),
    ("does not parse: Invalid block tag on line 1: 'iff'", "does not parse: %(value)s",
     ["Invalid block tag on line 1: 'iff'"]),
    ("does not render: TemplateTooBig: more than 1000 loop turns", "does not render: %(error)s: %(value)s",
     ["TemplateTooBig", "more than 1000 loop turns"]),
    ("host nowhere.invalid does not resolve", "host %(value)s does not resolve", ["nowhere.invalid"]),
    ("points at a private or reserved address (10.0.0.1)", "points at a private or reserved address (%(value)s)",
     ["10.0.0.1"]),
    ("moved to Won", "moved to %(value)s", ["Won"]),
    ("work item #42 due 2026-12-04T10:00:00+03:00", "work item #%(value)s due %(due)s",
     ["42", "2026-12-04T10:00:00+03:00"]),
    ("loop stopped: robots moved this deal 10 times within 60 minutes; robots will not move it again until "
     "a person does or the time passes",
     "loop stopped: robots moved this deal %(moves)s times within %(minutes)s minutes; robots will not move "
     "it again until a person does or the time passes", ["10", "60"]),
]

FIXED_SAMPLES = [
    "this pipeline is archived",
    "no such stage in this pipeline",
    "no such calendar",
    "a pipeline needs at least one open stage",
    "this lead is closed already",
    "must be an ISO 8601 duration such as PT30M or P1D",
    "an SMS needs a text",
    "must be an http:// or https:// URL",
    "a lead robot runs on a new lead or after a delay",
]


def _template_of(reason: str) -> str | None:
    for pattern, template in PATTERNED_REASONS:
        if pattern.match(reason):
            return template
    return None


def test_every_template_names_exactly_its_patterns_groups():
    # given / when / then
    for pattern, template in PATTERNED_REASONS:
        assert set(re.findall(r"%\((\w+)\)s", template)) == set(pattern.groupindex), template


@pytest.mark.parametrize(("reason", "template", "values"), PATTERNED_SAMPLES)
def test_a_patterned_reason_comes_back_in_english_with_its_values(reason, template, values):
    # given a reason as a service builds it
    # when a page shows it in English
    with translation.override("en"):
        text = reason_text(reason)
    # then the right template matched and every value is in place
    assert _template_of(reason) == template
    assert text == reason
    assert all(value in text for value in values)


@pytest.mark.parametrize("reason", FIXED_SAMPLES)
def test_a_fixed_reason_is_known_and_unchanged_in_english(reason):
    # given / when
    with translation.override("en"):
        text = reason_text(reason)
    # then
    assert reason in KNOWN_REASONS
    assert text == reason


def test_a_fixed_result_is_not_taken_for_a_patterned_one():
    # given "already in the stage" (a fixed run result) and "already in <register>" (patterned)
    # when / then
    assert _template_of("already in the stage") is None
    assert _template_of("already in vip-list") == "already in %(value)s"


def test_an_exact_translation_wins_over_a_pattern():
    # given "must be 1 to 255 characters", translated as itself long before the pattern was
    with translation.override("ru"):
        exact = translation.gettext("must be 1 to 255 characters")
        # when
        text = reason_text("must be 1 to 255 characters")
    # then
    assert text == exact


def test_an_unknown_reason_comes_back_as_it_came():
    # given / when / then
    with translation.override("ru"):
        assert reason_text("something nobody listed") == "something nobody listed"


def _russian_has(msgid: str) -> bool:
    catalog = trans_real.translation("ru")._catalog  # what the compiled .mo holds
    return catalog.get(msgid) not in (None, "")


# Russian: waits for the translators' pass (`make messages` and the .po); skips a sample whose
# msgid the compiled catalogue does not hold yet, instead of failing on work not done.
@pytest.mark.parametrize("reason", FIXED_SAMPLES + [sample[0] for sample in PATTERNED_SAMPLES])
def test_a_new_reason_reads_in_russian(reason):
    # given a reason whose msgid the Russian catalogue holds
    msgid = _template_of(reason) or reason
    if not _russian_has(msgid):
        pytest.skip(f"the ru catalogue has no translation of {msgid!r} yet: run `make messages` and translate it")
    # when a page shows it in Russian
    with translation.override("ru"):
        text = reason_text(reason)
    # then it is not the English, and the quoted values are kept
    assert text != reason
    values = next((v for r, _t, v in PATTERNED_SAMPLES if r == reason), [])
    assert all(value in text for value in values)
