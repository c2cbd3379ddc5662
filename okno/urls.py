from django.contrib.auth import views as auth_views
from django.urls import include, path

from okno.api import api
from okno.inbox.views_hooks import inbound_hook

urlpatterns = [
    path("", include("okno.home.urls")),
    path("login/", auth_views.LoginView.as_view(template_name="login.html"), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/", api.urls),
    path("hooks/<str:kind>/<str:token>/", inbound_hook, name="inbound_hook"),
    path("hooks/<str:kind>/<str:token>/<path:rest>", inbound_hook, name="inbound_hook_path"),
    path("contacts/", include("okno.contacts.urls")),
    path("people/", include("okno.people.urls")),
    path("inbox/", include("okno.inbox.urls")),
    path("", include("okno.deals.urls")),
    path("robots/", include("okno.robots.urls")),
    path("work/", include("okno.work.urls")),
    path("invoices/", include("okno.invoices.urls")),
    path("stores/", include("okno.stores.urls")),
    path("documents/", include("okno.documents.urls")),
    path("outbox/", include("okno.outbox.urls")),
    path("telephony/", include("okno.telephony.urls")),
    path("push/", include("okno.push.urls")),
    path("reports/", include("okno.analytics.urls")),
    path("settings/calendars/", include("okno.core.urls_calendars")),
]
# No MEDIA_URL route, not even with DEBUG: stored files (customers' attachments, imports) are
# served only through views that check who may see them (inbox:message_file).
