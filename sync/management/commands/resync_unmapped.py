"""List the Baserow projet/formation rows with no Docmost page, and (without --dry-run) sync them."""

from django.core.management.base import BaseCommand, CommandError

from sync.clients.errors import PermanentFailure, ServiceError
from sync.upkeep.reconciliation import reconciliation_run


class Command(BaseCommand):
    help = "Re-sync every projet (and formation) row not yet mapped to a Docmost page; --dry-run only lists them."

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="only show what would be synced")

    def handle(self, *args, dry_run, **options):
        try:
            run = reconciliation_run(dry_run=dry_run, trigger="command", actor_label="manage.py resync_unmapped")
        except (ServiceError, PermanentFailure) as error:
            raise CommandError(f"Baserow could not be read: {error}") from error
        rows = run.rows_found
        verb = "would sync" if dry_run else "queued"
        self.stdout.write(f"{len(rows)} row(s) without a Docmost page; {verb}:" if rows else
                          "Every projet and formation row has its Docmost page.")
        for row in rows:
            self.stdout.write(f"  {row['logical_table']} row {row['row_id']}: {row['title'] or '(no name)'}")
        if rows and not dry_run:
            self.stdout.write(self.style.SUCCESS(
                f"Reconciliation #{run.pk}: the workers create the pages; follow it in the console (Sync > Events)."
            ))
