from django.urls import path

from okno.deals import views, views_board, views_deals, views_leads, views_quick, views_settings

app_name = "deals"
urlpatterns = [
    # The deal pages (board, list, export, deal page, the card's panel).
    path("deals/", views_deals.deal_list_page, name="list"),
    path("deals/board/", views_board.board_default, name="board_default"),
    path("deals/export/", views_deals.deal_export, name="export"),
    path("deals/for-contact/<int:contact_id>/", views_deals.deals_for_contact, name="for_contact"),
    path("deals/for-company/<int:company_id>/", views_deals.deals_for_company, name="for_company"),
    path("deals/<int:pk>/", views_deals.deal_page, name="deal"),
    path("deals/<int:pk>/move/", views_board.deal_move, name="move"),
    path("deals/<int:pk>/field/<str:field>/", views_deals.deal_field, name="deal_field"),
    path("deals/<int:pk>/custom/", views_deals.deal_custom, name="deal_custom"),
    path("deals/<int:pk>/quick/<str:key>/", views_quick.deal_quick_field, name="deal_quick"),
    path("deals/<int:pk>/lines/", views_deals.deal_lines, name="deal_lines"),
    path("pipelines/<int:pk>/board/", views_board.board, name="board"),
    path("pipelines/<int:pk>/board/column/<int:stage_id>/", views_board.column, name="column"),
    path("leads/", views.leads_page, name="leads"),
    path("leads/notifications/", views.notifications, name="notifications"),
    path("leads/<int:pk>/read/", views.lead_read, name="lead_read"),
    path("leads/<int:pk>/take/", views.lead_take, name="lead_take"),
    path("leads/all/", views_leads.leads_all, name="leads_all"),
    path("leads/reassign/", views_leads.leads_reassign, name="leads_reassign"),
    path("leads/<int:pk>/convert/", views_leads.lead_convert_view, name="lead_convert"),
    path("leads/<int:pk>/lose/", views_leads.lead_lose_view, name="lead_lose"),
    path("leads/for-contact/<int:contact_id>/", views_leads.leads_for_contact, name="leads_for_contact"),
    # Pipeline settings and the lost reasons (administrators; okno/deals/views_settings.py).
    path("settings/pipelines/", views_settings.pipelines_settings, name="pipelines_settings"),
    path("settings/pipelines/<int:pk>/", views_settings.pipeline_settings, name="pipeline_settings"),
    path("settings/pipelines/<int:pk>/archive/", views_settings.pipeline_archive, name="pipeline_archive"),
    path("settings/pipelines/<int:pk>/move/", views_settings.pipeline_move, name="pipeline_move"),
    path("settings/pipelines/<int:pk>/stages/", views_settings.stage_add_view, name="stage_add"),
    path("settings/pipelines/<int:pk>/stages/<int:stage_id>/", views_settings.stage_edit_view, name="stage_edit"),
    path("settings/pipelines/<int:pk>/stages/<int:stage_id>/move/", views_settings.stage_move_view, name="stage_move"),
    path("settings/pipelines/<int:pk>/stages/<int:stage_id>/delete/", views_settings.stage_delete_view,
         name="stage_delete"),
    path("settings/pipelines/<int:pk>/fields/", views_settings.field_add_view, name="pipeline_field_add"),
    path("settings/lost-reasons/", views_settings.lost_reasons_settings, name="lost_reasons_settings"),
    path("settings/lost-reasons/<int:pk>/", views_settings.lost_reason_edit, name="lost_reason_edit"),
]
