"""Setting up a Telegram channel in a real browser: the kind's choice swaps in its fields, the
token goes in a password input, and "Test connection" names the bot (a fake Bot API)."""

import pytest
from playwright.sync_api import expect

from okno.inbox.models import Channel
from okno.inbox.tests.setup_servers import GOOD_TOKEN, FakeBotApi

pytestmark = pytest.mark.browser

@pytest.fixture(autouse=True)
def _english(settings):
    """These tests read the page's English (the site's default language is Russian)."""
    settings.LANGUAGE_CODE = "en"



@pytest.fixture
def bot_api(settings):
    fake = FakeBotApi().start()
    settings.OKNO_TELEGRAM_API_BASE = fake.url
    yield fake
    fake.stop()


def test_a_telegram_channel_is_created_through_the_form_and_its_connection_tested(logged_in_page, admin_user,
                                                                                  bot_api):
    page = logged_in_page(admin_user)
    page.goto("/inbox/channels/new/")
    # when the administrator picks "Telegram bot"
    page.select_option("#id_choose_kind", "telegram")
    # then the form shows the bot's fields, the token as a password, and no web form's fields
    token = page.locator("input[name=s-bot_token]")
    expect(token).to_have_attribute("type", "password")
    expect(page.locator("#channel-form")).to_have_attribute("data-kind", "telegram")
    expect(page.locator("textarea[name=s-allowed_origins]")).to_have_count(0)
    expect(page.locator("#advanced-settings textarea")).not_to_be_visible()

    # when they name it, paste the token and create it
    page.fill("#id_name", "Бот магазина")
    token.fill(GOOD_TOKEN)
    page.locator("#channel-form button[type=submit]").click()
    # then the channel page shows the kind by name, the URL with a copy button, and no token
    expect(page.locator("#channel-kind")).to_have_text("Telegram bot")
    channel = Channel.objects.get()
    expect(page.locator("#webhook-url")).to_contain_text(channel.webhook_path)
    assert GOOD_TOKEN not in page.content()

    # when they press Test connection
    page.locator("#test-connection").click()
    # then the bot is named, on the same page
    expect(page.locator("#check-result")).to_have_text("OK: bot @okno_shop_bot (Магазин)")
    assert channel.settings["bot_token"] == GOOD_TOKEN and bot_api.requests[-1][0] == "getMe"
