"""The sidebar's registry: unknown pages hide, broken counters are blank, the current item is the
longest matching prefix, and every domain's pages are registered."""

import pytest
from django.core.exceptions import ImproperlyConfigured

from okno.core import navigation
from okno.core.navigation import Counter, navigation_for, register_item


@pytest.fixture
def registry(monkeypatch):
    """An empty registry for the test (the apps' items come back afterwards)."""
    monkeypatch.setattr(navigation, "_items", {})
    return navigation


class Someone:
    is_admin = False
    role = "manager"


class Admin(Someone):
    is_admin = True


def test_items_come_in_section_and_order_with_their_counters(registry):
    # given items registered out of order, one with a counter that returns a plain int
    register_item(registry.SETTINGS, "people", "People", "people:index", order=10, visible=registry.admins_only)
    register_item(registry.WORK, "companies", "Companies", "contacts:companies", order=50)
    register_item(registry.WORK, "contacts", "Contacts", "contacts:list", order=40, counter=lambda user: 7)
    # when a manager and an administrator look
    manager = navigation_for(Someone(), "/contacts/")
    admin = navigation_for(Admin(), "/contacts/")
    # then the manager sees Work only, in order; the administrator also Settings
    assert [s.key for s in manager] == ["work"] and [s.key for s in admin] == ["work", "settings"]
    assert [i.key for i in manager[0].items] == ["contacts", "companies"]
    assert manager[0].items[0].counter == Counter(7) and manager[0].items[1].counter is None


def test_an_unknown_url_name_hides_the_item_and_a_failing_counter_shows_nothing(registry):
    def broken(user):
        raise RuntimeError("the database is away")

    register_item(registry.WORK, "future", "Reports", "reports:index", order=1)
    register_item(registry.WORK, "contacts", "Contacts", "contacts:list", order=2, counter=broken)
    [work] = navigation_for(Someone(), "/")
    assert [i.key for i in work.items] == ["contacts"] and work.items[0].counter is None


def test_the_current_item_is_the_longest_matching_prefix_and_home_only_on_home(registry):
    register_item(registry.WORK, "my_day", "My day", "home:index", order=1)
    register_item(registry.WORK, "contacts", "Contacts", "contacts:list", order=2, match=("/contacts/merge/",))
    register_item(registry.WORK, "companies", "Companies", "contacts:companies", order=3)

    def current(path):
        return [i.key for s in navigation_for(Someone(), path) for i in s.items if i.active]

    assert current("/") == ["my_day"]
    assert current("/contacts/12/") == ["contacts"]
    assert current("/contacts/companies/3/") == ["companies"]
    assert current("/contacts/merge/?ids=1,2") == ["contacts"]
    assert current("/people/") == []


def test_a_key_registered_again_for_another_page_is_a_mistake_but_the_same_page_is_fine(registry):
    register_item(registry.WORK, "contacts", "Contacts", "contacts:list", order=2)
    register_item(registry.WORK, "contacts", "Contacts", "contacts:list", order=2)  # apps.py run twice
    with pytest.raises(ImproperlyConfigured):
        register_item(registry.WORK, "contacts", "Contacts", "contacts:companies", order=2)
    with pytest.raises(ImproperlyConfigured):
        register_item("nowhere", "x", "X", "contacts:list", order=1)


def test_every_page_of_the_old_top_bar_is_registered():
    names = {i.url_name for i in navigation.registered_items()}
    assert {"home:index", "contacts:list", "contacts:companies", "contacts:duplicates", "contacts:import",
            "deals:leads", "inbox:channels", "inbox:problems", "telephony:unmatched", "people:index",
            "contacts:custom_fields", "deals:leads_all"} <= names


def test_a_filtered_view_of_a_page_is_current_only_with_its_query(registry):
    from django.http import QueryDict

    register_item(registry.WORK, "unassigned", "Unassigned", "deals:leads_all", order=1, query="assignee=none")
    register_item(registry.WORK, "all_leads", "All leads", "deals:leads_all", order=2)

    def current(query):
        return [i.key for s in navigation_for(Someone(), "/leads/all/", QueryDict(query)) for i in s.items if i.active]

    assert current("") == ["all_leads"] and current("status=open") == ["all_leads"]
    assert current("assignee=none&status=open") == ["unassigned"]
    assert [i.url for s in navigation_for(Someone(), "/") for i in s.items] == ["/leads/all/?assignee=none",
                                                                              "/leads/all/"]
