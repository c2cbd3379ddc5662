from django.apps import AppConfig


class DocumentsConfig(AppConfig):
    name = "okno.documents"
    label = "documents"
