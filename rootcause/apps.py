from django.apps import AppConfig


class RootcauseConfig(AppConfig):
    name = "rootcause"
    verbose_name = "Root cause"
