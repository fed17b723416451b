from django.core.management.base import BaseCommand, CommandError

from formation_hub.audit import audit_chain_breaks
from formation_hub.models import AuditEntry


class Command(BaseCommand):
    help = "Check the audit trail's hash chain; exits 1 naming each entry where it breaks."

    def handle(self, *args, **options):
        breaks = audit_chain_breaks()
        for found in breaks:
            self.stdout.write(f"entry #{found.entry_id}: {found.reason}")
        if breaks:
            raise CommandError(f"The audit trail's chain is broken in {len(breaks)} place(s).")
        self.stdout.write(f"{AuditEntry.objects.count()} entries, the chain holds.")
