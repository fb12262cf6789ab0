from importlib import import_module

from django.apps import apps
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from cxgov.demo import DEMO_PASSWORD, PEOPLE, load_organisation
from cxgov.lib import outbox


class Command(BaseCommand):
    help = (
        "Load the demo organisation, then each app's demo data (its demo.load), idempotently: "
        "running it twice changes nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--allow-production",
            action="store_true",
            help="Load even with DEBUG off (the demo creates users with a published password).",
        )

    def handle(self, *args, **options):
        if settings.PRODUCTION and not options["allow_production"]:
            raise CommandError(
                "Refusing to load the demo with DEBUG off: it creates an administrator whose password is "
                "published. Use --allow-production on a throwaway installation only."
            )
        # The demo replays a year of history (alerts firing and resolving, issues assigned): its
        # emails are kept as replayed, never sent, so a first start sends nothing.
        with outbox.replaying():
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
            import_module("outcomes.ledger_demo").load(stdout=self.stdout)  # the ledger reads every app's demo data
        users = ", ".join(u for u in PEOPLE if "." not in u)
        self.stdout.write(self.style.SUCCESS(f"Demo ready. Log in as {users} (password: {DEMO_PASSWORD})."))
