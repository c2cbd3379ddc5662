from django.urls import path

from okno.documents import views, views_suppliers

app_name = "documents"
urlpatterns = [
    path("templates/", views.templates, name="templates"),
    path("templates/<int:pk>/active/", views.template_toggle, name="template_toggle"),
    path("templates/<int:pk>/preview/", views.template_preview, name="template_preview"),
    path("rules/", views.rule_add, name="rule_add"),
    path("rules/<int:pk>/delete/", views.rule_delete, name="rule_delete"),
    path("our-company/", views.our_company_save, name="our_company"),
    path("deal/<int:deal_id>/", views.deal_panel, name="deal_panel"),
    path("deal/<int:deal_id>/send/", views.deal_send, name="deal_send"),
    path("deal/<int:deal_id>/lines/<int:line_id>/supplier/", views.deal_line_supplier, name="line_supplier"),
    path("<int:pk>/<str:fmt>/", views.download, name="download"),
    path("suppliers/", views_suppliers.suppliers, name="suppliers"),
    path("suppliers/new/", views_suppliers.supplier_edit, name="supplier_new"),
    path("suppliers/<int:pk>/", views_suppliers.supplier_edit, name="supplier_edit"),
]
