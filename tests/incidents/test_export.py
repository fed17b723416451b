"""The markdown export: exact file name, the template's sections in order, the export command."""

from datetime import UTC, date, datetime
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from incidents.models import PostMortem
from incidents.postmortems.action_items import action_item_add, action_item_set_status
from incidents.postmortems.export import SECTIONS, postmortem_filename, postmortem_markdown
from incidents.postmortems.services import BLAMELESS_STATEMENT, postmortem_publish, postmortem_save, postmortem_submit
from incidents.services import incident_acknowledge, incident_open, incident_transition
from tests.incidents.factories import PostMortemFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def post_mortem(responder, clock, make_user):
    """'Docmost: 502 on every page!' detected Mon 30 Nov 2026 23:30 Paris, resolved Tue 1 Dec 00:20 Paris."""
    clock.now = datetime(2026, 11, 30, 22, 30, tzinfo=UTC)
    incident = incident_open(title="Docmost: 502 on every page!", severity="SEV1", source="oncall_form",
                             service="docmost", category="down", detected_at=clock.now)
    clock.advance(minutes=10)
    incident_acknowledge(incident=incident, user=responder)
    for status in ["triaged", "investigating", "mitigated", "resolved"]:
        clock.advance(minutes=10)
        incident = incident_transition(incident=incident, to_status=status, user=responder)
    post_mortem = PostMortem.objects.get(incident=incident)
    postmortem_save(post_mortem=post_mortem, user=responder, root_cause="A bad proxy config.",
                    monitoring_gap="The monitor only checked the login page.", lessons_learned="Check real pages.",
                    estimated_cost="none")
    owner = make_user("bruno", "oncall")
    action_item_add(post_mortem=post_mortem, user=responder, description="Monitor a course page", owner=owner,
                    due_date=date(2026, 12, 8))
    done = action_item_add(post_mortem=post_mortem, user=responder, description="Fix the proxy", owner=owner,
                           due_date=date(2026, 12, 2))
    action_item_set_status(item=done, user=responder, status="done")
    return PostMortem.objects.get(pk=post_mortem.pk)


def test_file_name_is_the_local_resolution_day_and_the_slug(post_mortem):
    # Resolved 23:20 UTC on 30 November, which is already 1 December in Paris.
    assert postmortem_filename(post_mortem) == "2026-12-01-docmost-502-on-every-page.md"


def test_markdown_has_the_templates_sections_in_order(post_mortem):
    text = postmortem_markdown(post_mortem)
    headings = [line for line in text.splitlines() if line.startswith("#")]
    assert headings == [
        "# Post-mortem: Docmost: 502 on every page!",
        "## Timeline (local times, Europe/Paris)",
        "## Impact",
        "## Root cause",
        "## Why did our monitoring not alert earlier?",
        "## Action items",
        "## Lessons learned",
        "## Blameless statement",
    ]
    assert [heading.split(" (")[0].lstrip("# ") for heading in headings[1:]] == list(SECTIONS)


def test_markdown_carries_the_prefilled_and_written_content(post_mortem):
    text = postmortem_markdown(post_mortem)
    assert "- 23:30 detection\n- 23:50 triage\n- Tue 01 Dec 00:00 mitigation start" in text
    assert "- Downtime: 0h 40m\n- Users affected: None reported\n- Data loss: No\n- Estimated cost: none" in text
    assert "## Root cause\n\nA bad proxy config." in text
    assert "- [ ] AI 1: Fix the proxy" not in text
    assert "- [x] AI 1: Fix the proxy (owner @bruno, due 2026-12-02)" in text
    assert "- [ ] AI 2: Monitor a course page (owner @bruno, due 2026-12-08)" in text
    assert text.rstrip().endswith(BLAMELESS_STATEMENT)


def test_download_from_the_oncall_page_and_the_console(post_mortem, client, admin_user):
    client.force_login(admin_user)
    for url in [f"/oncall/postmortems/{post_mortem.pk}/markdown/",
                f"/admin/incidents/postmortem/{post_mortem.pk}/markdown/"]:
        response = client.get(url)
        assert response.status_code == 200
        assert response["Content-Type"] == "text/markdown; charset=utf-8"
        assert response["Content-Disposition"] == 'attachment; filename="2026-12-01-docmost-502-on-every-page.md"'
        assert response.content.decode() == postmortem_markdown(post_mortem)


def test_download_needs_a_login(post_mortem, client):
    response = client.get(f"/oncall/postmortems/{post_mortem.pk}/markdown/")
    assert response.status_code == 302 and "/login" in response["Location"]


def test_export_command_writes_only_published_post_mortems(post_mortem, responder, reviewer, tmp_path):
    PostMortemFactory()  # a draft: not exported
    postmortem_submit(post_mortem=post_mortem, user=responder)
    postmortem_publish(post_mortem=post_mortem, user=reviewer)
    out = StringIO()
    call_command("export_postmortems", str(tmp_path / "docs" / "post-mortems"), stdout=out)
    files = sorted(path.name for path in (tmp_path / "docs" / "post-mortems").iterdir())
    assert files == ["2026-12-01-docmost-502-on-every-page.md"]
    written = (tmp_path / "docs" / "post-mortems" / files[0]).read_text(encoding="utf-8")
    assert written == postmortem_markdown(PostMortem.objects.get(pk=post_mortem.pk))
    assert "status: published" in written
    assert "1 published post-mortem(s) exported" in out.getvalue()


def test_export_command_refuses_a_file_as_folder(tmp_path):
    target = tmp_path / "a-file"
    target.write_text("x")
    with pytest.raises(CommandError, match="is not a folder"):
        call_command("export_postmortems", str(target))
