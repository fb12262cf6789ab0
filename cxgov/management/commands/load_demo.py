from importlib import import_module

from django.apps import apps
from django.core.management.base import BaseCommand

from cxgov.demo import DEMO_PASSWORD, PEOPLE, load_organisation


class Command(BaseCommand):
    help = (
        "Load the demo organisation, then each app's demo data (its demo.load), idempotently: "
        "running it twice changes nothing."
    )

    def handle(self, *args, **options):
        load_organisation(stdout=self.stdout)
        for config in apps.get_app_configs():
            if config.name == "cxgov":
                continue
            try:
                module = import_module(f"{config.name}.demo")
            except ModuleNotFoundError as exc:
                if exc.name != f"{config.name}.demo":
                    raise
                continue
            module.load(stdout=self.stdout)
        users = ", ".join(u for u in PEOPLE if "." not in u)
        self.stdout.write(self.style.SUCCESS(f"Demo ready. Log in as {users} (password: {DEMO_PASSWORD})."))
