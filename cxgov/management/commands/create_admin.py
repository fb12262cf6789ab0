from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.urls import reverse

from cxgov.models import User
from cxgov.services import administrator_create


class Command(BaseCommand):
    help = (
        "Create an administrator and print a one-time password (change it after logging in). "
        "For an installation started without the demo (CXGOV_DEMO=0), which has nobody to log in as."
    )

    def add_arguments(self, parser):
        parser.add_argument("username", nargs="?", default="admin")
        parser.add_argument("--email", default="", help="Where their alerts and digests go.")
        parser.add_argument(
            "--hint", action="store_true", help="Create nobody; say how to create one if nobody can log in yet."
        )

    def handle(self, *args, **options):
        if options["hint"]:
            if not User.objects.filter(is_active=True).exists():
                self.stdout.write(
                    "  Nobody can log in yet: create the first administrator with\n"
                    "      .venv/bin/python manage.py create_admin <username> --email <address>\n"
                    "  It prints a one-time password to change after logging in."
                )
            return
        try:
            person, password = administrator_create(username=options["username"], email=options["email"])
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from None
        self.stdout.write(
            self.style.SUCCESS(f"Administrator {person.username} created.")
            + f"\n  Log in at {settings.SITE_URL}{reverse('login')} with the one-time password: {password}"
            + f"\n  Then choose your own at {settings.SITE_URL}{reverse('password_change')}"
        )
