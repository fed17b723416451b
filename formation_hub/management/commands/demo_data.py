from django.core.management.base import BaseCommand
from django.db import transaction

from formation_hub.dev.demo import load_demo_data


class Command(BaseCommand):
    help = "Load the demo data (idempotent): users in every role, sync configuration, incidents, releases."

    def handle(self, *args, **options):
        with transaction.atomic():
            lines = load_demo_data()
        for line in lines:
            self.stdout.write(f"  {line}")
        self.stdout.write(self.style.SUCCESS("Demo data ready."))
