"""No dead ends (issue 16, points 13, 14, 18): `/` leads somewhere, the favicon exists, a refusal says why
in the console's style and offers a way back, and nobody is offered a link their role cannot use."""

import logging

import pytest
from django.urls import reverse


@pytest.fixture
def people(make_user):
    return {
        "admin": make_user("admin", "admin", is_superuser=True),
        "alice": make_user("alice", "oncall"),
        "chloe": make_user("chloe", "release-approver"),
        "victor": make_user("victor", "viewer"),
        "outsider": make_user("outsider", is_staff=False),
    }


def test_root_sends_anonymous_people_to_sign_in(client, db):
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_root_sends_staff_to_the_console_and_others_to_the_oncall_home(client, people):
    client.force_login(people["victor"])
    assert client.get("/")["Location"] == reverse("admin:index")
    client.force_login(people["outsider"])
    assert client.get("/")["Location"] == reverse("incidents:home")


def test_the_favicon_is_served(client, db):
    response = client.get("/favicon.ico")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/x-icon"
    assert b"".join(response.streaming_content)[:4] == b"\x00\x00\x01\x00"


def test_a_refusal_says_why_in_the_console_style_with_a_way_back(client, people):
    client.force_login(people["victor"])
    response = client.get(reverse("incidents:new"), HTTP_REFERER="http://testserver/oncall/")
    assert response.status_code == 403
    page = response.content.decode()
    assert "formation_hub/console.css" in page
    assert "Only on-call people and admins can do this" in page
    assert 'id="refusal-back" href="http://testserver/oncall/"' in page


def test_a_refusal_never_links_back_to_another_site(client, people):
    client.force_login(people["victor"])
    page = client.get(reverse("incidents:new"), HTTP_REFERER="https://evil.example/").content.decode()
    assert 'id="refusal-back" href="/"' in page and "evil.example" not in page


def test_a_refusal_is_logged_once_on_one_line(client, people, caplog):
    client.force_login(people["victor"])
    with caplog.at_level(logging.WARNING, logger="django.request"):
        client.get(reverse("incidents:new"))
    refusals = [record for record in caplog.records if record.name == "django.request"]
    assert len(refusals) == 1
    assert refusals[0].exc_info is None and "Forbidden" in refusals[0].getMessage()


def test_a_viewer_is_not_offered_to_file_an_incident(client, people):
    client.force_login(people["victor"])
    for url in (reverse("admin:index"), reverse("incidents:home")):
        page = client.get(url).content.decode()
        assert reverse("incidents:new") not in page, url
    client.force_login(people["alice"])
    assert reverse("incidents:new") in client.get(reverse("admin:index")).content.decode()


def test_only_those_who_may_prepare_a_release_are_offered_it(client, people):
    client.force_login(people["alice"])
    assert "Prepare a release" not in client.get(reverse("admin:index")).content.decode()
    client.force_login(people["admin"])
    assert "Prepare a release" in client.get(reverse("admin:index")).content.decode()


def test_the_login_tab_is_titled_for_the_product(client, db):
    title = client.get(reverse("login")).content.decode().split("<title>")[1].split("</title>")[0]
    assert "Django" not in title and "formation-hub" in title
