"""What the bump services share below them: the row and ecosystem locks, the open count of the
per-ecosystem queue, the members of a grouped update and how they follow their lead."""

import zlib

from django.db import connection

from formation_hub.audit import audit_record
from formation_hub.errors import DomainError
from releases.models import DependencyBump
from releases.rules.bumps import Path, categorise


def advisories_clean(advisories) -> list[str]:
    if advisories is None:
        return []
    if isinstance(advisories, str):
        advisories = advisories.replace(",", " ").split()
    if not isinstance(advisories, list | tuple) or not all(isinstance(item, str) for item in advisories):
        raise DomainError("Advisories are a list of ids (GHSA-xxxx-xxxx-xxxx or CVE-YYYY-NNNN).")
    return sorted({item.strip().upper() for item in advisories if item.strip()})


def ecosystem_lock(ecosystem: str) -> None:
    """Serialise the intakes and promotions of one ecosystem until the transaction ends, so two of them never
    both take the last open slot. Locking the open rows would not do: a row inserted meanwhile by the other
    transaction is not seen (PostgreSQL READ COMMITTED). SQLite serialises every write transaction anyway."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [zlib.crc32(f"releases.bumps:{ecosystem}".encode())])


def open_count(ecosystem: str) -> int:
    """Open bumps of the ecosystem, a grouped update counting once (like Dependabot's pull-request limit)."""
    return DependencyBump.objects.filter(ecosystem=ecosystem, state__in=DependencyBump.OPEN_STATES,
                                         group_lead__isnull=True).count()


def group_member_add(lead: DependencyBump, package: str, from_version: str, to_version: str, *, user) -> None:
    categorisation = categorise(package=package, ecosystem=lead.ecosystem, from_version=from_version,
                                to_version=to_version, severity=lead.severity, advisories=tuple(lead.advisories))
    member = DependencyBump.objects.create(
        package=package.strip()[:200], ecosystem=lead.ecosystem, from_version=from_version.strip(),
        to_version=to_version.strip(), advisories=lead.advisories, severity=lead.severity, scope=lead.scope,
        source=lead.source, category=categorisation.category, path=categorisation.path,
        explanation=categorisation.explanation, state=lead.state, ci_status=lead.ci_status, created_by=user,
        group_name=lead.group_name, group_lead=lead, waiting_for=f"its group, on {lead}"[:300],
    )
    audit_record(action="bump.created", target=member, actor=user, actor_label=f"releases:{lead.source}",
                 changes={"category": member.category, "group": lead.group_name, "group_lead": lead.pk,
                          "pull_request": lead.pull_request_url},
                 message=f"{categorisation.explanation} Decided and merged with the {lead.group_name} group.")


STRICTNESS = (Path.AUTO_MERGE, Path.REVIEW, Path.STAGING_TEST, Path.GO_NO_GO)


def group_members(bump: DependencyBump) -> list[DependencyBump]:
    """The other packages of the grouped update this bump leads (none for a plain bump), locked."""
    if not bump.group_name or bump.group_lead_id is not None:
        return []
    return list(DependencyBump.objects.select_for_update().filter(group_lead=bump).order_by("id"))


def group_path_set(lead: DependencyBump, user) -> None:
    """The group's one gate is the one its strictest package needs (a major inside makes it a go/no-go)."""
    strictest = max([lead, *group_members(lead)], key=lambda bump: STRICTNESS.index(bump.path))
    if strictest.path == lead.path:
        return
    lead.path = strictest.path
    lead.explanation = (f"{lead.explanation} The {lead.group_name} group follows its strictest package, "
                        f"{strictest}: {strictest.explanation}")
    lead.save(update_fields=["path", "explanation"])
    audit_record(action="bump.group_path_set", target=lead, actor=user, changes={"path": lead.path},
                 message=lead.explanation)


def group_follow(lead: DependencyBump, user, **fields) -> None:
    """The group's other packages take the lead's new state or CI status."""
    for member in group_members(lead):
        for name, value in fields.items():
            setattr(member, name, value)
        member.save(update_fields=list(fields))
        audit_record(action="bump.group_followed", target=member, actor=user, changes=fields,
                     message=f"With its {lead.group_name} group, on {lead}.")


def bump_waiting(bump: DependencyBump, what: str) -> None:
    bump.waiting_for = what[:300]
    bump.save(update_fields=["waiting_for"])


def bump_lock(bump: DependencyBump) -> DependencyBump:
    return DependencyBump.objects.select_for_update().get(pk=bump.pk)
