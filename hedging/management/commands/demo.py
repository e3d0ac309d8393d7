"""`python manage.py demo`: everything the README's run command needs, in one process."""

import os

from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand

DEMO_USER = "demo"


class Command(BaseCommand):
    help = "Migrate, create the demo login and serve the product on loopback."

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=8000)

    def handle(self, *args, port: int, **options):
        call_command("migrate", verbosity=0)
        password = os.environ.get("DEMO_PASSWORD", "hedge-demo")
        user, _ = get_user_model().objects.get_or_create(username=DEMO_USER)
        user.is_staff = user.is_superuser = True
        user.set_password(password)
        user.save()
        self.stdout.write(
            f"Auto-Hedge demo: http://127.0.0.1:{port}/  login {DEMO_USER} / {password}  (admin at /admin/)"
        )
        call_command("runserver", f"127.0.0.1:{port}", use_reloader=False)
