from django.urls import path

from okno.contacts import (
    views,
    views_companies,
    views_custom_fields,
    views_duplicates,
    views_export,
    views_import,
    views_merge,
)

app_name = "contacts"
urlpatterns = [
    path("", views.contact_list_page, name="list"),
    path("<int:pk>/", views.contact_card, name="card"),
    path("new/", views.contact_new, name="new"),
    path("new/check-duplicates/", views.check_duplicates, name="check_duplicates"),
    path("<int:pk>/edit/", views.contact_edit, name="edit"),
    path("<int:pk>/delete/", views.contact_delete, name="delete"),
    path("<int:pk>/notes/", views.add_note, name="add_note"),
    path("custom-fields/", views_custom_fields.custom_field_list, name="custom_fields"),
    path("custom-fields/new/", views_custom_fields.custom_field_new, name="custom_field_new"),
    path("custom-fields/<int:pk>/", views_custom_fields.custom_field_edit, name="custom_field_edit"),
    path("merge/", views_merge.merge_page, name="merge"),
    path("duplicates/", views_duplicates.duplicates_page, name="duplicates"),
    path("duplicates/dismiss/", views_duplicates.duplicates_dismiss, name="duplicates_dismiss"),
    path("merges/<int:merge_id>/undo/", views_merge.merge_undo, name="merge_undo"),
    path("import/", views_import.import_page, name="import"),
    path("import/<int:pk>/", views_import.import_job_page, name="import_job"),
    path("export/", views_export.export_page, name="export"),
    path("exports/<int:pk>/", views_export.export_job_page, name="export_job"),
    path("exports/<int:pk>/download/", views_export.export_job_download, name="export_job_download"),
    path("companies/", views_companies.company_list_page, name="companies"),
    path("companies/new/", views_companies.company_new, name="company_new"),
    path("companies/<int:pk>/", views_companies.company_page, name="company"),
    path("companies/<int:pk>/edit/", views_companies.company_edit, name="company_edit"),
]
