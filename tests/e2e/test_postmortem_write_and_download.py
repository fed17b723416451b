"""An on-call person writes the post-mortem of a resolved SEV2 and adds an action item; another one reviews
and publishes it, told what became of the team notification; the markdown downloads."""

from formation_hub.access.roles import ensure_roles
from incidents.models import PostMortem
from incidents.services import incident_open, incident_transition


def test_oncall_writes_a_post_mortem_and_downloads_its_markdown(make_user, page, login, tmp_path):
    ensure_roles()  # the live server's database is flushed between tests: give the groups their permissions
    olga = make_user("olga", "oncall")
    rita = make_user("rita", "oncall")
    incident = incident_open(title="Baserow answers 502", severity="SEV2", source="oncall_form",
                             service="baserow", category="down")
    for status in ["triaged", "investigating", "mitigated", "resolved"]:
        incident = incident_transition(incident=incident, to_status=status, user=olga)
    post_mortem = PostMortem.objects.get(incident=incident)

    login(olga, next_path=f"/oncall/incidents/{incident.pk}/")
    page.wait_for_url(f"**/oncall/incidents/{incident.pk}/")
    page.click("#learning a:has-text('draft')")
    page.wait_for_url(f"**/oncall/postmortems/{post_mortem.pk}/")
    assert "detection" in page.locator("#id_timeline").input_value()
    page.fill("#id_root_cause", "The **proxy** lost its upstream after a restart.")
    page.fill("#id_monitoring_gap", "The monitor only checked the login page.")
    page.fill("#id_lessons_learned", "Monitor a real page. <script>alert(1)</script>")
    page.click("#save")
    assert "Post-mortem saved." in page.locator(".messages").inner_text()
    assert page.locator("#root-cause strong").inner_text() == "proxy"
    assert page.locator("#document script").count() == 0

    page.fill("#add-item #id_description", "Monitor a course page, not the login page")
    page.select_option("#add-item #id_owner", label="olga")
    page.fill("#add-item #id_due_date", "2026-12-04")
    page.click("#add-item button[type=submit]")
    assert "Action item added." in page.locator(".messages").inner_text()

    page.click("#submit-review")
    assert page.locator("#state").inner_text() == "in review"
    assert page.locator("#publish").count() == 0, "the author does not publish her own post-mortem"
    assert "olga, who asked for it" in page.locator("#review-waiting").inner_text()

    page.context.clear_cookies()
    login(rita, next_path=f"/oncall/postmortems/{post_mortem.pk}/")
    page.click("#publish")
    assert page.locator("#state").inner_text() == "published"
    notice = page.locator(".messages").inner_text()
    assert "The team was not notified: No team channel configured" in notice
    assert "shared with the team" not in notice
    assert PostMortem.objects.get().published_by == rita

    with page.expect_download() as download_info:
        page.click("#download")
    download = download_info.value
    assert download.suggested_filename.endswith("-baserow-answers-502.md")
    path = tmp_path / download.suggested_filename
    download.save_as(path)
    text = path.read_text(encoding="utf-8")
    assert text.startswith("# Post-mortem: Baserow answers 502")
    assert "## Root cause\n\nThe **proxy** lost its upstream after a restart." in text
    assert "- [ ] AI 1: Monitor a course page, not the login page (owner @olga, due 2026-12-04)" in text
    assert "## Blameless statement" in text
