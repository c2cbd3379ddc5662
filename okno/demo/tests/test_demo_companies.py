"""The demo's companies look lived-in: valid requisites, a main line, an e-mail and a responsible."""

import pytest

from okno.contacts.companies import company_clean
from okno.contacts.models import Company
from okno.demo import company as demo


@pytest.fixture
def seeded(db):
    return demo.demo_seed(contacts=400, seed=11)


def test_every_demo_company_has_requisites_that_pass_their_checks(seeded):
    companies = list(Company.objects.all())
    assert len(companies) >= 40
    for company in companies:
        raw = {f: getattr(company, f) for f in ("inn", "kpp", "ogrn", "bik", "settlement_account",
                                                  "correspondent_account")}
        # the service's own checks accept them as they are (no FieldError)
        assert company_clean(raw, actor=None, company=company).keys() >= raw.keys(), company.name
        assert company.legal_address and company.bank_name
    with_phone = [c for c in companies if c.phones and c.emails]
    assert len(with_phone) == len(companies)
    assert sum(1 for c in companies if c.responsible_id) >= len(companies) * 0.9


def test_a_demo_company_page_shows_its_requisites_contacts_and_timeline(client, seeded):
    from okno.people.models import User

    company = Company.objects.filter(responsible__isnull=False, contacts__isnull=False).first()
    client.force_login(User.objects.get(username="admin"))
    html = client.get(f"/contacts/companies/{company.pk}/").content.decode()
    assert company.inn in html and company.bik in html and f'href="tel:{company.phones[0]["e164"]}"' in html
    assert 'id="company-timeline"' in html and "Nothing has happened" not in html
