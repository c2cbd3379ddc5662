"""Issue 14: a shared phone is proof of one person only when it is personal or the names agree;
a one-digit typo in a phone with the same full name and city or company is likely.

Every example here is invented for the rule it exercises.
"""

import pytest

from okno.contacts.duplicates import duplicates_scan
from okno.contacts.matching import Probe, features_of, find_candidates, names_agree, score_pair
from okno.contacts.models import DuplicatePair
from okno.contacts.tests.factories import make_contact
from okno.core.phones import is_personal, one_digit_apart

OFFICE = "+74957310022"  # a Moscow landline
HOME_SPB = "+78123340917"  # a St Petersburg landline
MOBILE = "+79267451830"


def feats(first="", last="", middle="", company="", city="", phones=(), emails=()):
    return features_of(first=first, last=last, middle=middle, company=company, city=city,
                       phones=[(p, "") for p in phones], emails=list(emails))


@pytest.mark.parametrize(("number", "personal"), [
    ("+79267451830", True),  # Russia, mobile
    ("+74957310022", False),  # Moscow landline
    ("+78003337788", False),  # 8-800 hotline
    ("+77015552233", True),  # Kazakhstan, mobile
    ("+77272445566", False),  # Almaty landline
    ("+375297771122", True),  # Belarus, mobile
    ("+375172223344", False),  # Minsk landline
    ("+380671234455", True),  # Ukraine, mobile
    ("+998935550011", True),  # Uzbekistan, mobile
])
def test_personal_numbers_are_mobiles(number, personal):
    assert is_personal(number) is personal


def test_a_landline_extension_is_a_desk_line_and_personal():
    assert is_personal(OFFICE, "214")


def test_one_digit_apart_is_one_substitution_or_two_neighbours_swapped():
    assert one_digit_apart("+79267451830", "+79267451836")
    assert one_digit_apart("+79267451830", "+79267481530") is False  # two digits, not neighbours
    assert one_digit_apart("+79267451830", "+79267451803")
    assert one_digit_apart("+79267451830", "+79267451830") is False
    assert one_digit_apart("+79267451830", "+7926745183") is False


def test_colleagues_on_an_office_landline_are_possible_with_the_reason_shared_phone():
    # given two colleagues with the office's main number on their cards
    a = feats("Тимофей", "Ларионов", company="Вектор-Плюс", phones=[OFFICE])
    b = feats("Зарина", "Ахмедова", company="Вектор-Плюс", phones=[OFFICE])
    # then the pair is at most possible, and says why
    level, score, reasons = score_pair(a, b)
    assert level == "possible" and score < 0.75
    assert reasons == ["shared phone +7 495 731-00-22"]


def test_husband_and_wife_on_a_home_phone_are_possible():
    level, _, reasons = score_pair(feats("Аркадий", "Снегирёв", phones=[HOME_SPB]),
                                   feats("Вероника", "Снегирёва", phones=[HOME_SPB]))
    assert level == "possible"
    assert reasons[0] == "shared phone +7 812 334-09-17"


def test_alexandr_and_alexandra_on_one_home_phone_do_not_agree():
    # a typo-tolerant first name would let them agree: the gender says they are two people
    a = feats("Александр", "Лужин", phones=[HOME_SPB])
    b = feats("Александра", "Лужина", phones=[HOME_SPB])
    assert not names_agree(a, b)
    assert score_pair(a, b)[0] == "possible"


def test_father_and_son_of_one_name_on_a_home_phone_do_not_agree():
    a = feats("Глеб", "Воронцов", "Степанович", phones=[HOME_SPB])
    b = feats("Глеб", "Воронцов", "Глебович", phones=[HOME_SPB])
    assert not names_agree(a, b)
    assert score_pair(a, b)[0] == "possible"


def test_a_landline_with_agreeing_names_is_certain():
    level, score, reasons = score_pair(feats("Тимофей", "Ларионов", phones=[OFFICE]),
                                       feats("Тимофей", "Ларионов", "Ильич", phones=[OFFICE]))
    assert level == "certain" and score >= 0.9
    assert reasons[0] == "same phone +7 495 731-00-22"


@pytest.mark.parametrize(("first_a", "last_a", "first_b", "last_b"), [
    ("Дмитрий", "Гончаренко", "Дима", "Гончаренко"),  # a short form
    ("Дмитрий", "Гончаренко", "Дмитирй", "Гончаренко"),  # a typo
    ("Дмитрий", "Гончаренко", "Гончаренко", "Дмитрий"),  # swapped
    ("Дмитрий", "Гончаренко", "Dmitry", "Goncharenko"),  # Latin letters
    ("Дмитрий", "Гончаренко", "Дмитрий", ""),  # no last name on one card
])
def test_names_that_agree_on_a_landline(first_a, last_a, first_b, last_b):
    a, b = feats(first_a, last_a, phones=[OFFICE]), feats(first_b, last_b, phones=[OFFICE])
    assert names_agree(a, b)
    assert score_pair(a, b)[0] == "certain"


def test_a_nameless_card_on_a_landline_is_possible():
    # a card a call made (no name) says nothing of which colleague called
    level, _, reasons = score_pair(feats(phones=[OFFICE]), feats("Тимофей", "Ларионов", phones=[OFFICE]))
    assert level == "possible" and reasons == ["shared phone +7 495 731-00-22"]


def test_a_mobile_is_proof_whatever_the_names():
    level, _, reasons = score_pair(feats("Ренат", "Хайруллин", phones=[MOBILE]),
                                   feats("Ринат", "Хайрулин", phones=[MOBILE]))
    assert level == "certain" and reasons[0] == "same phone +7 926 745-18-30"
    assert score_pair(feats("Ренат", phones=[MOBILE]), feats("Оксана", phones=[MOBILE]))[0] == "certain"


def test_a_shared_landline_next_to_a_shared_mobile_is_still_certain():
    level, _, reasons = score_pair(feats("Ренат", "Хайруллин", phones=[OFFICE, MOBILE]),
                                   feats("Оксана", "Хайруллина", phones=[OFFICE, MOBILE]))
    assert level == "certain"
    assert reasons[:2] == ["same phone +7 926 745-18-30", "shared phone +7 495 731-00-22"]


def test_scan_keeps_proven_pairs_and_leaves_a_shared_office_line_to_the_card(db):
    # given an office line on three colleagues' cards, one of them twice
    kept = make_contact(first_name="Тимофей", last_name="Ларионов", company="Вектор-Плюс", phones=[OFFICE])
    again = make_contact(first_name="Тимофей", last_name="Ларионов", phones=["8 (495) 731-00-22"])
    colleague = make_contact(first_name="Зарина", last_name="Ахмедова", company="Вектор-Плюс", phones=[OFFICE])
    # when the scan runs
    duplicates_scan()
    # then only the same person's two cards are a stored pair
    assert list(DuplicatePair.objects.values_list("contact_a", "contact_b", "level")) == [
        (kept.pk, again.pk, "certain")]
    # and the colleague's card still shows the others as possible, saying why
    found = {c.contact_id: c for c in find_candidates(Probe.of(colleague), exclude_ids={colleague.pk})}
    assert {cid: c.level for cid, c in found.items()} == {kept.pk: "possible", again.pk: "possible"}
    assert found[again.pk].reasons == ["shared phone +7 495 731-00-22"]


def test_card_duplicates_api_says_shared_phone(api):
    a = make_contact(first_name="Аркадий", last_name="Снегирёв", phones=["+7 812 334-09-17"])
    b = make_contact(first_name="Вероника", last_name="Снегирёва", phones=["8 812 334 09 17"])
    r = api.get(f"/api/v1/contacts/{a.pk}/duplicates")
    assert r.status_code == 200
    assert [(x["id"], x["level"], x["reasons"]) for x in r.json()] == [
        (b.pk, "possible", ["shared phone +7 812 334-09-17"])]


# One-digit typos


def test_same_full_name_and_city_with_a_phone_one_digit_off_is_likely():
    level, score, reasons = score_pair(
        feats("Всеволод", "Кречетов", city="Казань", phones=["+79172204518"]),
        feats("Всеволод", "Кречетов", city="Казань", phones=["+79172204519"]))
    assert level == "likely" and score >= 0.75
    assert reasons == ["same name, same city", "phone one digit apart +7 917 220-45-18 / +7 917 220-45-19"]


def test_same_full_name_and_company_with_a_phone_one_digit_off_is_likely():
    level, _, reasons = score_pair(
        feats("Всеволод", "Кречетов", company="Гидромаш", phones=["+79172204518"]),
        feats("Всеволод", "Кречетов", company="Гидромаш", phones=["+79172205418"]))
    assert level == "likely" and reasons[1].startswith("phone one digit apart")


@pytest.mark.parametrize(("other", "city"), [
    (("Всеволод", "Кречетов"), ""),  # no city, no company: only the name
    (("Всеволод", "Кречетов"), "Самара"),  # another city
    (("Всеволод", "Кречетова"), "Казань"),  # not the same full name
])
def test_a_phone_one_digit_off_without_the_same_full_name_and_place_stays_possible(other, city):
    found = score_pair(feats("Всеволод", "Кречетов", city="Казань", phones=["+79172204518"]),
                       feats(*other, city=city, phones=["+79172204519"]))
    assert found is None or found[0] == "possible"


def test_namesakes_in_one_city_with_nothing_else_stay_possible():
    level, _, reasons = score_pair(feats("Всеволод", "Кречетов", city="Казань", phones=["+79172204518"]),
                                   feats("Всеволод", "Кречетов", city="Казань", phones=["+79033120077"]))
    assert level == "possible" and reasons == ["same name, same city"]


def test_scan_finds_a_phone_typo_between_namesakes_of_one_city(db):
    # given the same person twice, a digit of the number mistyped, and a namesake in another city
    a = make_contact(first_name="Всеволод", last_name="Кречетов", city="Казань", phones=["+7 917 220-45-18"])
    b = make_contact(first_name="Всеволод", last_name="Кречетов", city="казань", phones=["+7 917 220-45-81"])
    make_contact(first_name="Всеволод", last_name="Кречетов", city="Самара", phones=["+7 917 220-45-19"])
    # when the scan runs
    duplicates_scan()
    # then the pair is stored as likely
    assert list(DuplicatePair.objects.values_list("contact_a", "contact_b", "level")) == [(a.pk, b.pk, "likely")]
