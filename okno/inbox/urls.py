from django.urls import path

from okno.inbox import views, views_files, views_leads

app_name = "inbox"
urlpatterns = [
    path("channels/", views.channel_list, name="channels"),
    path("channels/new/", views.channel_new, name="channel_new"),
    path("channels/<int:pk>/", views.channel_page, name="channel"),
    path("channels/<int:pk>/rotate/", views.channel_rotate, name="channel_rotate"),
    path("problems/", views.problems_page, name="problems"),
    path("problems/retry/", views.problems_retry, name="problems_retry"),
    path("leads/", views_leads.leads_page, name="leads"),
    path("leads/<int:pk>/read/", views_leads.lead_read, name="lead_read"),
    path("leads/<int:pk>/take/", views_leads.lead_take, name="lead_take"),
    path("notifications/", views_leads.notifications, name="notifications"),
    path("conversations/<int:pk>/reply/", views_leads.conversation_reply_view, name="conversation_reply"),
    path("messages/<int:message_id>/files/<int:index>/", views_files.message_file, name="message_file"),
]
