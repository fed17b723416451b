"""The six runbooks the playbook lists (incident.md, "Runbooks lies"), with a useful first content.

Existing rows are left alone, so editing a runbook in the console is never undone by a migrate.
"""

from django.db import migrations

RUNBOOKS = [
    {
        "slug": "docmost-down",
        "title": "Docmost down",
        "symptoms": """- The wiki answers 502/504 or does not answer; UptimeRobot monitor `docmost-http` is down.
- Course pages do not load for trainers; the sync reports Docmost errors (401/5xx) or a growing queue.""",
        "diagnosis": """1. `docker compose ps docmost` - is the container running, restarting, unhealthy?
2. `docker compose logs --tail=200 docmost` - look for database connection errors, out-of-memory kills, migrations.
3. `./scripts/healthcheck.sh` - are Postgres and Redis reachable from the host?
4. `df -h` and `free -m` on the host - a full disk or no free memory takes Docmost down
   (see the *Disk full* runbook).
5. Check the reverse proxy: `docker compose logs --tail=100 proxy` (certificate expired, upstream name).""",
        "resolution": """1. If the container exited: `docker compose up -d docmost`, then watch the logs until it listens.
2. If it restarts in a loop on a database error: fix the database first (*Postgres corrupted* runbook).
3. If it is out of memory: raise the container's memory limit, restart, open an action item to size it.
4. Verify: `./scripts/healthcheck.sh` all OK, `./scripts/smoke-test.sh`, open a course page as a trainer.
5. Replay the sync events parked while Docmost was down (console: Sync > Events, filter *dead*, replay).""",
        "prevention": """- Container restart policy `unless-stopped` and a healthcheck in the compose file.
- Monitor `docmost-http` on a real page (not only the login page), every minute.
- Alert on disk above 80 % and on memory pressure before Docmost stops.""",
        "rollback_escalation": """- A release caused it: roll back to the previous version (release playbook, console: Releases > roll back).
- Not back within 30 minutes: escalate to the backup on call, then to acadenice-devops.
- Data lost or corrupted: follow *Restore from backup* and open the GDPR assessment if personal data is involved.""",
    },
    {
        "slug": "baserow-down",
        "title": "Baserow down",
        "symptoms": """- The database UI or its API answers 5xx or times out; monitor `baserow-http` is down.
- Sync events from Baserow stop arriving; pushes to Baserow fail and retry.""",
        "diagnosis": """1. `docker compose ps baserow` and `docker compose logs --tail=200 baserow`.
2. Check its backend workers and Redis: `docker compose ps redis`, `docker compose logs --tail=100 redis`.
3. `./scripts/healthcheck.sh`; check Postgres connections (`select count(*) from pg_stat_activity;`).
4. Disk and memory on the host (`df -h`, `free -m`).
5. Check the API with the integration token: `curl -H "Authorization: Token $TOKEN" $BASEROW_URL/api/database/tables/`.""",
        "resolution": """1. Restart the service: `docker compose restart baserow`, wait for the healthcheck to pass.
2. Redis down: `docker compose up -d redis` then restart Baserow.
3. Too many database connections: restart Baserow, then look for the client that leaks connections.
4. Verify a real flow: edit a *personne* row and see the change reach Docmost through the sync.
5. Replay the sync events that failed meanwhile (console: Sync > Events).""",
        "prevention": """- Healthcheck and restart policy in the compose file; monitor the API, not only the web UI.
- Alert on Redis memory and on Postgres connection count.
- Keep Baserow's version pinned and upgrade through a release with a smoke test.""",
        "rollback_escalation": """- After an upgrade: roll back to the previous image tag and restore the database backup taken before it.
- Not back within 30 minutes: escalate to the backup on call and to acadenice-devops.
- Rows lost: *Restore from backup* for the affected tables.""",
    },
    {
        "slug": "disk-full",
        "title": "Disk full",
        "symptoms": """- Services fail to write: Postgres refuses writes (`No space left on device`), uploads fail, logs stop.
- Disk usage alert above 90 %; containers restart in a loop.""",
        "diagnosis": """1. `df -h` - which file system is full? `df -i` - inodes too?
2. `du -xh --max-depth=2 / | sort -h | tail -20` - what grew?
3. Usual suspects: `docker system df` (old images, build cache), container logs under
   `/var/lib/docker/containers`, old backups, Postgres WAL (`pg_wal`).""",
        "resolution": """1. Free space safely first: `docker image prune -a` (unused images), `docker builder prune`.
2. Truncate oversized container logs (`truncate -s 0 <container>-json.log`) and set log rotation.
3. Move or delete backups older than the retention, after checking a recent one restores.
4. WAL growing: check replication slots and archiving (`select * from pg_replication_slots;`).
5. Restart the services that failed; verify with `./scripts/healthcheck.sh` and `./scripts/smoke-test.sh`.
6. Not enough: grow the volume (upsizing) and record it as an action item.""",
        "prevention": """- Docker log rotation (`max-size`, `max-file`) on every service.
- Backup retention enforced by the backup job itself.
- Alert at 80 % disk and inode use, with a trend, not only at 95 %.""",
        "rollback_escalation": """- Never delete database files by hand; if Postgres does not start after the cleanup, follow
  *Postgres corrupted*.
- Cannot free space within 30 minutes: escalate to acadenice-devops to grow the volume.""",
    },
    {
        "slug": "postgres-corrupted",
        "title": "Postgres corrupted",
        "symptoms": """- Errors such as `invalid page in block`, `could not read block`, `unexpected zero page` in the logs.
- Postgres does not start, or queries on some tables fail while others work.""",
        "diagnosis": """1. `docker compose logs --tail=300 postgres` - which relation, which file?
2. Was there a crash, a full disk or a host restart just before? (`journalctl`, `dmesg` for I/O errors)
3. Check the storage: `dmesg | grep -i error`, SMART status if the disk is local.
4. Find the damaged objects: `select relname from pg_class where relfilenode = <number from the error>;`
5. Take a file-level copy of the data directory BEFORE trying anything else.""",
        "resolution": """1. Stop the services that write (Docmost, Baserow, the sync workers) to stop further damage.
2. Damaged index only: `REINDEX INDEX <name>;` then check with `amcheck` if available.
3. Damaged tables: restore the latest good backup (*Restore from backup*), then replay what happened since
   from the sync's stored events where possible.
4. Start the services again; verify with `./scripts/healthcheck.sh`, `./scripts/smoke-test.sh` and real flows.""",
        "prevention": """- Checksums on (`initdb --data-checksums`), reliable storage, no `fsync=off`.
- Daily backups verified by a restore test every month.
- Alert on Postgres errors in the logs, not only on the service being up.""",
        "rollback_escalation": """- Keep the copy of the damaged data directory until the post-mortem is published.
- Data loss: open the GDPR assessment (72 h to notify the authority if people are at risk).
- Escalate at once to acadenice-devops and the backup on call: this is a SEV1.""",
    },
    {
        "slug": "restore-from-backup",
        "title": "Restore from backup",
        "symptoms": """- Data was lost or corrupted (bad migration, deleted rows, corrupted database) and must come back
  from a backup.""",
        "diagnosis": """1. Decide the restore point: the last backup before the damage (check the backup list and its times).
2. Check the backup is complete: size in line with the previous ones, `pg_restore --list <file>` succeeds.
3. Decide the scope: whole database, one service's database, or some tables only.
4. Estimate what is lost between the backup and now, and tell the team before starting.""",
        "resolution": """1. Announce the restore in #ops; stop the services using the database.
2. Keep a dump of the current state first: `pg_dump -Fc <db> > before-restore.dump`.
3. Restore into a new database: `createdb <db>_restore && pg_restore -d <db>_restore <backup file>`.
4. Check the restored data (row counts, a few known records), then swap it in (rename databases) or copy the
   tables needed.
5. Start the services; verify with `./scripts/healthcheck.sh`, `./scripts/smoke-test.sh` and a real user flow.
6. Re-apply what happened after the backup where possible (the sync's stored events can be replayed).""",
        "prevention": """- Automatic daily backups kept off the host, with retention.
- A monthly restore test into a scratch database, recorded.
- A backup before every release that migrates data (release playbook prerequisite).""",
        "rollback_escalation": """- The restored data is wrong: swap back to the database kept in step 2.
- No usable backup: escalate at once to acadenice-devops and the admins (strategic escalation).
- Personal data lost: GDPR assessment within 72 hours.""",
    },
    {
        "slug": "rotate-secrets",
        "title": "Rotate secrets",
        "symptoms": """- A secret leaked (committed, pasted, shared in a ticket) or an environment may be compromised.
- Unknown logins, API calls with a valid token from an unknown address, a team member leaves.""",
        "diagnosis": """1. List what may be exposed: Django `SECRET_KEY`, database passwords, Baserow and Docmost tokens,
   webhook secrets, SMTP credentials, alert tokens, the team channel webhook URL.
2. Find when and where it leaked; check the audit trail and the access logs since then.
3. If an environment is compromised: isolate it first (firewall, stop public access).""",
        "resolution": """1. Create the new secret at its source (Baserow: new database token; Docmost: new API key;
   Postgres: `ALTER ROLE ... PASSWORD`; webhooks: a new shared secret).
2. Update the environment (`.env` or the secret store) and the console's connection rows.
3. Restart the services that read it; verify each integration (sync health panel, a test alert, a test email).
4. Revoke the old secret at its source only once the new one works.
5. Record the rotation (what, when, who) in the incident timeline - never the secret itself.""",
        "prevention": """- Secrets only in the environment or a secret store, never in the repository; a secret scanner in CI.
- One token per integration, least privilege, rotation every 6 months.
- Offboarding checklist includes the secrets the person knew.""",
        "rollback_escalation": """- A service fails with the new secret: put the old one back only if it is not the leaked one,
  otherwise fix forward.
- Compromise suspected: SEV1, escalate to the admins; personal data involved: GDPR assessment.""",
    },
]


def create_runbooks(apps, schema_editor):
    Runbook = apps.get_model("incidents", "Runbook")
    for fields in RUNBOOKS:
        Runbook.objects.get_or_create(slug=fields["slug"], defaults=fields)


def remove_untouched_runbooks(apps, schema_editor):
    Runbook = apps.get_model("incidents", "Runbook")
    Runbook.objects.filter(slug__in=[fields["slug"] for fields in RUNBOOKS], last_reviewed_at__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [("incidents", "0002_postmortems_runbooks_recurrence")]

    operations = [migrations.RunPython(create_runbooks, remove_untouched_runbooks)]
