from django.urls import path
from django.views.generic import RedirectView

from okno.inbox import views, views_claims, views_files, views_replies

app_name = "inbox"
urlpatterns = [
    path("channels/", views.channel_list, name="channels"),
    path("channels/new/", views.channel_new, name="channel_new"),
    path("channels/<int:pk>/", views.channel_page, name="channel"),
    path("channels/<int:pk>/edit/", views.channel_edit, name="channel_edit"),
    path("channels/<int:pk>/check/", views.channel_check_view, name="channel_check"),
    path("channels/<int:pk>/telegram-webhook/", views.channel_telegram_connect, name="channel_telegram_connect"),
    path("channels/<int:pk>/rotate/", views.channel_rotate, name="channel_rotate"),
    path("problems/", views.problems_page, name="problems"),
    path("problems/retry/", views.problems_retry, name="problems_retry"),
    # Leads' pages moved to the deals app; an old bookmark still lands.
    path("leads/", RedirectView.as_view(pattern_name="deals:leads", permanent=True)),
    path("conversations/<int:pk>/reply/", views_replies.conversation_reply_view, name="conversation_reply"),
    path("messages/<int:message_id>/files/<int:index>/", views_files.message_file, name="message_file"),
    path("messages/<int:message_id>/files/<int:file_index>/retry/", views_files.message_file_retry,
         name="message_file_retry"),
    path("messages/<int:message_id>/claims/<int:index>/", views_claims.phone_claim_view, name="phone_claim"),
]
