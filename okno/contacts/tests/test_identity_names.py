"""Issue 14: short forms of first names (Саша = Александр) as another key, never alone; a whole
name written in one field split for matching. Invented names and companies."""

import pytest

from okno.contacts import names
from okno.contacts.duplicates import duplicates_scan
from okno.contacts.matching import Probe, blocking_keys, features_of, find_candidates, score_pair
from okno.contacts.models import DuplicatePair
from okno.contacts.nicknames import FULL_NAMES, NICKNAMES
from okno.contacts.tests.factories import make_contact


def feats(first="", last="", middle="", company="", city="", phones=(), emails=()):
    return features_of(first=first, last=last, middle=middle, company=company, city=city,
                       phones=[(p, "") for p in phones], emails=list(emails))


def test_every_short_form_stands_for_listed_full_names():
    for short, fulls in NICKNAMES.items():
        assert short not in FULL_NAMES, short
        assert fulls and all(f in FULL_NAMES for f in fulls), short


@pytest.mark.parametrize(("short", "full"), [
    ("Саша", "Александр"), ("Саша", "Александра"), ("Женя", "Евгений"), ("Женя", "Евгения"), ("Дима", "Дмитрий"),
    ("Катя", "Екатерина"), ("Лёша", "Алексей"), ("Леша", "Алексей"), ("Алёша", "Алексей"), ("Миша", "Михаил"),
    ("Коля", "Николай"), ("Серёжа", "Сергей"), ("Паша", "Павел"), ("Вова", "Владимир"), ("Володя", "Владимир"),
    ("Таня", "Татьяна"), ("Наташа", "Наталья"), ("Оля", "Ольга"), ("Лена", "Елена"), ("Маша", "Мария"),
    ("Настя", "Анастасия"), ("Юля", "Юлия"), ("Ира", "Ирина"), ("Света", "Светлана"), ("Костя", "Константин"),
    ("Sasha", "Aleksandr"), ("Zhenya", "Евгения"), ("Тёма", "Артём"), ("Стас", "Станислав"), ("Макс", "Максим"),
])
def test_short_form_and_full_name_agree(short, full):
    assert names.skeleton(full) in names.full_forms(names.skeleton(short))


def test_sasha_of_a_company_is_alexandr_of_the_same_company():
    level, score, reasons = score_pair(feats("Саша", "Кузьмин", company="ООО «Стройресурс»"),
                                       feats("Александр", "Кузьмин", company="Стройресурс"))
    assert level == "likely" and score >= 0.75
    assert reasons == ["name 95% similar, short form of the first name, same company"]


def test_a_short_form_alone_is_never_more_than_possible():
    # same surname, nothing else shared
    level, _, _ = score_pair(feats("Катя", "Лунёва", city="Тверь"), feats("Екатерина", "Лунева", city="Тверь"))
    assert level == "possible"
    # another surname, the same company: nothing
    assert score_pair(feats("Дима", "Орлов", company="Стройресурс"),
                      feats("Дмитрий", "Соколов", company="Стройресурс")) is None


def test_a_short_form_of_two_names_is_told_apart_by_the_last_name():
    level, _, reasons = score_pair(feats("Женя", "Кузьмина", company="Стройресурс"),
                                   feats("Евгений", "Кузьмин", company="Стройресурс"))
    assert level == "possible" and "different gender" in reasons[0]


def test_two_short_forms_of_one_name_agree():
    level, _, _ = score_pair(feats("Саша", "Кузьмин", company="Стройресурс"),
                             feats("Шура", "Кузьмин", company="Стройресурс"))
    assert level == "likely"


def test_short_form_is_filed_under_its_full_form_too():
    keys = blocking_keys(Probe(first_name="Дима", last_name="Орлов"))
    assert {"n:dima|orlov", "n:dmitri|orlov"} <= keys


def test_card_search_finds_the_full_name_from_a_short_form(db):
    full = make_contact(first_name="Анастасия", last_name="Белозёрова", company="Северный ветер")
    make_contact(first_name="Анастасия", last_name="Белова")
    found = find_candidates(Probe(first_name="Настя", last_name="Белозерова", company="Северный ветер"))
    assert [(c.contact_id, c.level) for c in found] == [(full.pk, "likely")]


def test_scan_pairs_a_short_form_with_the_full_name_at_one_company(db):
    a = make_contact(first_name="Александр", last_name="Кузьмин", company="Стройресурс")
    b = make_contact(first_name="Саша", last_name="Кузьмин", company="ООО Стройресурс")
    make_contact(first_name="Саша", last_name="Кузьмина", company="Стройресурс", phones=["+79031112233"])
    duplicates_scan()
    assert list(DuplicatePair.objects.values_list("contact_a", "contact_b", "level")) == [(a.pk, b.pk, "likely")]


# A whole name in one field


@pytest.mark.parametrize(("first", "last", "middle", "split"), [
    ("Кузьмин Александр Петрович", "", "", ("кузьмин", "александр", "петрович")),
    ("Александр Петрович Кузьмин", "", "", ("кузьмин", "александр", "петрович")),
    ("Александр Кузьмин", "", "", ("кузьмин", "александр", "")),
    ("Кузьмин Александр", "", "", ("кузьмин", "александр", "")),
    ("", "Кузьмин Александр Петрович", "", ("кузьмин", "александр", "петрович")),
    ("", "Александр Кузьмин", "", ("кузьмин", "александр", "")),
    ("Александр Петрович", "Кузьмин", "", ("кузьмин", "александр", "петрович")),
    ("Белозёрова Анастасия Игоревна", "", "", ("белозерова", "анастасия", "игоревна")),
    ("Настя Белозёрова", "", "", ("белозерова", "настя", "")),  # folded: ё is е
    ("Kuzmin Aleksandr", "", "", ("kuzmin", "aleksandr", "")),
    ("Рахимов Тимур Ильич", "", "", ("рахимов", "тимур", "ильич")),
    ("Зорро Гарсиа", "", "", ("гарсиа", "зорро", "")),  # nothing to go by: "Имя Фамилия"
])
def test_split_name(first, last, middle, split):
    assert names.split_name(first, last, middle) == split


def test_whole_name_in_the_first_name_field_matches_the_split_card():
    one_field = feats("Кузьмин Александр Петрович", company="Стройресурс")
    split = feats("Александр", "Кузьмин", "Петрович", company="Стройресурс")
    level, _, reasons = score_pair(one_field, split)
    assert level == "likely"
    assert reasons == ["same name, same patronymic, same company"]


def test_whole_name_in_one_field_with_a_nickname_and_a_landline_is_certain():
    level, _, reasons = score_pair(feats("Саша Кузьмин", phones=["+74957310022"]),
                                   feats("Александр", "Кузьмин", "Петрович", phones=["+74957310022"]))
    assert level == "certain" and reasons[0] == "same phone +7 495 731-00-22"


def test_scan_finds_an_imported_whole_name_at_the_same_company(db):
    a = make_contact(first_name="Анастасия", last_name="Белозёрова", middle_name="Игоревна", company="Северный ветер")
    b = make_contact(first_name="Белозерова Анастасия Игоревна", last_name="", company="Северный ветер")
    duplicates_scan()
    assert list(DuplicatePair.objects.values_list("contact_a", "contact_b", "level")) == [(a.pk, b.pk, "likely")]
