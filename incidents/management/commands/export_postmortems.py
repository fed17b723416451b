from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from incidents.postmortems.export import export_published


class Command(BaseCommand):
    help = "Write every published post-mortem as YYYY-MM-DD-<slug>.md into a folder (e.g. docs/post-mortems)."

    def add_arguments(self, parser):
        parser.add_argument("folder", help="Target folder; created if missing, files of the same name replaced.")

    def handle(self, *args, folder, **options):
        target = Path(folder)
        if target.exists() and not target.is_dir():
            raise CommandError(f"{target} exists and is not a folder.")
        try:
            written = export_published(target)
        except OSError as error:
            raise CommandError(f"Cannot write into {target}: {error}") from error
        for path in written:
            self.stdout.write(str(path))
        self.stdout.write(self.style.SUCCESS(f"{len(written)} published post-mortem(s) exported to {target}."))
