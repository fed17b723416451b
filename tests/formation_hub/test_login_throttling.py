import pytest


@pytest.mark.parametrize("login_url", ["/admin/login/", "/accounts/login/"])
def test_repeated_failed_sign_ins_lock_the_username_out(client, make_user, settings, login_url):
    make_user("alice", "oncall")
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        response = client.post(login_url, {"username": "alice", "password": "wrong"})
        assert response.status_code == 200  # the form again, with its error
    locked = client.post(login_url, {"username": "alice", "password": "wrong"})
    assert locked.status_code == 429
    assert b"Too many failed sign-ins" in locked.content
    # Even the right password is refused while locked.
    assert client.post(login_url, {"username": "alice", "password": "pw-for-tests"}).status_code == 429


def test_a_successful_sign_in_resets_the_failure_count(client, make_user, settings):
    make_user("bruno", "oncall")
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        client.post("/admin/login/", {"username": "bruno", "password": "wrong"})
    assert client.post("/admin/login/", {"username": "bruno", "password": "pw-for-tests"}).status_code == 302
    client.logout()
    assert client.post("/admin/login/", {"username": "bruno", "password": "wrong"}).status_code == 200


def test_another_username_from_the_same_address_is_not_locked(client, make_user, settings):
    make_user("chloe", "release-approver")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post("/admin/login/", {"username": "mallory", "password": "guess"})
    assert client.post("/admin/login/", {"username": "chloe", "password": "pw-for-tests"}).status_code == 302


@pytest.mark.parametrize(("login_url", "tab_title"), [
    ("/admin/login/", "Log in | formation-hub ops console"), ("/accounts/login/", "Log in | formation-hub"),
])
def test_the_sign_in_pages_have_a_tab_title_of_their_own(client, db, login_url, tab_title):
    body = client.get(login_url).content.decode()
    assert f"<title>{tab_title}</title>" in body and "Django site admin" not in body
