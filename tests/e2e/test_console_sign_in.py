def test_admin_signs_in_and_sees_the_landing_page_with_its_health_panel(make_user, page, login):
    admin = make_user("ada", "admin", is_superuser=True)
    login(admin)
    assert page.locator("#site-name").inner_text() == "formation-hub ops console"
    health = page.locator("#panel-health")
    assert health.is_visible()
    assert "database" in health.inner_text()


def test_wrong_password_keeps_the_user_out(make_user, page, login):
    make_user("mallory", "viewer")
    page.goto("/admin/login/?next=/admin/")
    page.fill("#id_username", "mallory")
    page.fill("#id_password", "not-the-password")
    page.click("input[type=submit]")
    assert page.locator(".errornote").is_visible()
