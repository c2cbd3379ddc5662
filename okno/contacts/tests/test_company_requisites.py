"""Company requisites: INN, KPP, OGRN/OGRNIP, BIK and accounts with their official check digits.

The examples are invented numbers of the real format, with check digits computed by hand from
the published algorithms; each "wrong" one differs from a valid one in its check digit only."""

import pytest

from okno.contacts.companies import company_create, company_update
from okno.contacts.models import Company
from okno.core import requisites
from okno.core.errors import FieldError
from okno.people.tests.factories import UserFactory

INN_COMPANY = "7728123459"        # weights 2,4,10,3,5,9,4,6,8: 239 % 11 % 10 = 9
INN_ENTREPRENEUR = "771234567859"  # the 11th and 12th digits are both check digits
OGRN = "1027700123450"             # 102770012345 % 11 % 10 = 0
OGRNIP = "316774600123454"         # 31677460012345 % 13 % 10 = 4
BIK = "044525999"
SETTLEMENT = "40702810100001234567"    # key digit (9th) = 1 against the BIK's last three, 999
CORRESPONDENT = "30101810600000000999"  # key digit = 6 against "0" + the BIK's 5th-6th digits, 25


@pytest.mark.parametrize("value", [INN_COMPANY, INN_ENTREPRENEUR, "7707083893", "500100732259", "7728 123-459"])
def test_valid_inns_pass_and_come_back_as_digits(value):
    assert requisites.check_inn(value) == value.replace(" ", "").replace("-", "")


@pytest.mark.parametrize("value, reason", [
    ("7728123458", requisites.INN_CHECK),      # the company's, last digit off
    ("771234567858", requisites.INN_CHECK),    # the entrepreneur's, 12th digit off
    ("771234567959", requisites.INN_CHECK),    # the entrepreneur's, 11th digit off
    ("772812345", requisites.INN_LENGTH),
    ("77281234590", requisites.INN_LENGTH),
    ("77281234ab", requisites.INN_LENGTH),
])
def test_bad_inns_are_refused_with_the_reason(value, reason):
    with pytest.raises(ValueError) as refused:
        requisites.check_inn(value)
    assert str(refused.value) == reason


def test_ogrn_and_ogrnip_check_digits():
    assert requisites.check_ogrn(OGRN) == OGRN
    assert requisites.check_ogrn(OGRNIP) == OGRNIP
    assert requisites.check_ogrn("1027700132195") == "1027700132195"
    for wrong in ("1027700123451", "316774600123455"):
        with pytest.raises(ValueError, match="wrong check digit"):
            requisites.check_ogrn(wrong)
    with pytest.raises(ValueError, match="13 digits"):
        requisites.check_ogrn("10277001234")


def test_kpp_is_nine_characters_of_its_shape():
    assert requisites.check_kpp("772801001") == "772801001"
    assert requisites.check_kpp("7728ab001") == "7728AB001"
    for bad in ("77280100", "7728010011", "77-2801001x", "7728!!001"):
        with pytest.raises(ValueError):
            requisites.check_kpp(bad)


def test_accounts_are_checked_against_the_bik():
    assert requisites.check_bik(BIK) == BIK
    assert requisites.check_settlement_account(SETTLEMENT, BIK) == SETTLEMENT
    assert requisites.check_correspondent_account(CORRESPONDENT, BIK) == CORRESPONDENT
    # a real pair: Sberbank's correspondent account and BIK
    assert requisites.check_correspondent_account("30101810400000000225", "044525225")
    with pytest.raises(ValueError, match="does not match the BIK"):
        requisites.check_settlement_account("40702810200001234567", BIK)  # key digit off
    with pytest.raises(ValueError, match="does not match the BIK"):
        requisites.check_settlement_account(SETTLEMENT, "044525998")  # another bank
    with pytest.raises(ValueError, match="does not match the BIK"):
        requisites.check_correspondent_account("30101810700000000999", BIK)
    with pytest.raises(ValueError, match="20 digits"):
        requisites.check_settlement_account("4070281010000123456", BIK)
    with pytest.raises(ValueError, match="9 digits"):
        requisites.check_bik("04452599")


def test_an_account_of_a_cash_settlement_centre_is_keyed_with_the_bik_middle():
    bik = "044525000"
    account = requisites.with_key_account(bik, "40102810000000010001")
    assert requisites.check_settlement_account(account, bik) == account


@pytest.fixture
def manager(db):
    return UserFactory(language="en")


def _refusals(raw: dict, actor, company=None) -> dict:
    with pytest.raises(FieldError) as refused:
        if company is None:
            company_create(actor=actor, raw=raw)
        else:
            company_update(actor=actor, company=company, raw=raw)
    return refused.value.by_field


def test_create_keeps_clean_requisites_phones_emails_and_the_actor_as_responsible(manager):
    company = company_create(actor=manager, raw={
        "name": "ООО «Вектор»", "inn": "7728 123 459", "kpp": "772801001", "ogrn": OGRN,
        "bik": BIK, "settlement_account": SETTLEMENT, "correspondent_account": CORRESPONDENT,
        "bank_name": "АО «Банк»", "legal_address": "Москва, ул. Примерная, 1",
        "phones": ["8 (495) 123-45-67 доб. 12", "+7 495 123-45-67 ext. 12"], "emails": ["Office@Vector.example"],
    })
    company.refresh_from_db()
    assert (company.inn, company.ogrn, company.search_name) == (INN_COMPANY, OGRN, "ооо «вектор»")
    assert company.phones == [{"e164": "+74951234567", "extension": "12"}]
    assert company.emails == ["office@vector.example"]
    assert company.responsible == manager


def test_bad_values_are_refused_naming_each_field_and_nothing_is_stored(manager):
    errors = _refusals({"name": "ООО «Вектор»", "inn": "7728123458", "ogrn": "1027700123451", "kpp": "12",
                        "bik": BIK, "settlement_account": "40702810200001234567", "phones": ["123"],
                        "emails": ["not-an-email"]}, manager)
    assert errors == {
        "inn": requisites.INN_CHECK, "ogrn": requisites.OGRN_CHECK, "kpp": requisites.KPP_FORMAT,
        "settlement_account": requisites.ACCOUNT_CHECK,
        "phones": "'123' is not a valid phone number", "emails": "'not-an-email' is not a valid e-mail address",
    }
    assert not Company.objects.exists()
    assert _refusals({"inn": INN_COMPANY}, manager) == {"name": "must be 1 to 300 characters"}
    assert _refusals({"name": "X", "settlement_account": SETTLEMENT}, manager) == {
        "settlement_account": requisites.ACCOUNT_NEEDS_BIK}


def test_requisites_that_belong_together(manager):
    # an entrepreneur has no KPP, and an OGRN goes with a company's INN
    assert _refusals({"name": "ИП Петров", "inn": INN_ENTREPRENEUR, "kpp": "772801001", "ogrn": OGRN}, manager) == {
        "kpp": requisites.KPP_FOR_IP, "ogrn": requisites.OGRN_KIND}
    company = company_create(actor=manager, raw={"name": "ИП Петров", "inn": INN_ENTREPRENEUR, "ogrn": OGRNIP})
    # changing the BIK alone re-checks the stored account
    company = company_update(actor=manager, company=company, raw={"bik": BIK, "settlement_account": SETTLEMENT})
    assert _refusals({"bik": "044525998"}, manager, company) == {"settlement_account": requisites.ACCOUNT_CHECK}


def test_update_changes_only_what_is_given_and_a_name_stays_unique(manager):
    company_create(actor=manager, raw={"name": "Альфа"})
    company = company_create(actor=manager, raw={"name": "Бета", "inn": INN_COMPANY, "phones": ["+74951234567"]})
    company = company_update(actor=manager, company=company, raw={"kpp": "772801001", "emails": []})
    company.refresh_from_db()
    assert (company.inn, company.kpp, company.phones[0]["e164"]) == (INN_COMPANY, "772801001", "+74951234567")
    assert _refusals({"name": "альфа"}, manager, company) == {"name": "this name is taken"}
    assert _refusals({"responsible_id": 999999}, manager, company) == {"responsible_id": "no such user you may assign"}
    assert _refusals({"colour": "red"}, manager, company) == {"colour": "unknown field: colour"}
    assert _refusals({"legal_address": "Москва\x00"}, manager, company) == {"legal_address": "must be text"}
