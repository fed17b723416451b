"""An on-call person files an incident through the on-call form, then finds it in the console."""

from formation_hub.access.roles import ensure_roles


def test_oncall_files_an_incident_and_sees_it_in_the_console(make_user, page, login):
    ensure_roles()  # the live server's database is flushed between tests: give the groups their permissions
    olga = make_user("olga", "oncall")
    login(olga, next_path="/oncall/")
    page.wait_for_url("**/oncall/")
    page.click("text=File incident")
    page.fill("#id_title", "Baserow answers 502 on every page")
    page.check("input[name=severity][value=SEV2]")
    page.fill("#id_service", "baserow")
    page.fill("#id_category", "down")
    page.fill("#id_description", "Since 10:05, every request to Baserow answers 502.")
    page.check("#id_user_facing")
    page.click("button[type=submit]")
    page.wait_for_url("**/oncall/incidents/*/")
    assert "Baserow answers 502 on every page" in page.locator("h1").inner_text()
    assert "respond by" in page.locator("#clock").inner_text()

    page.click("text=Acknowledge")
    assert "Acknowledged." in page.locator(".messages").inner_text()

    page.goto("/admin/incidents/incident/")
    row = page.locator("#result_list tbody tr", has_text="Baserow answers 502 on every page")
    assert row.count() == 1
    assert "SEV2" in row.inner_text()
    assert "acknowledged" in row.inner_text()


def test_the_oncall_form_shows_errors_on_a_phone_screen(make_user, page, login):
    page.set_viewport_size({"width": 375, "height": 740})
    login(make_user("olga", "oncall"), next_path="/oncall/incidents/new/")
    page.wait_for_url("**/oncall/incidents/new/")
    page.click("button[type=submit]")
    assert page.locator(".errorlist").count() >= 4
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 375
