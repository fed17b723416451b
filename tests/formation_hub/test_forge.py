"""The forge client against the local stand-in, GitHub-shaped and Forgejo-shaped (the `forge` fixture runs
each test once per kind), over real HTTP."""

import pytest

from formation_hub.forge import ForgeError, PullRequestRef, forge_client, pull_request_ref


def ref(forge, pull) -> PullRequestRef:
    return PullRequestRef(repository=forge.repository, number=pull["number"])


def test_pull_request_urls_of_both_forges_are_understood():
    assert pull_request_ref("https://github.com/acme/app/pull/12") == PullRequestRef("acme/app", 12)
    assert pull_request_ref("https://forge.example.org/acme/app/pulls/7/") == PullRequestRef("acme/app", 7)
    assert pull_request_ref("https://github.com/acme/app/issues/3") is None
    assert pull_request_ref("") is None


def test_merge_is_refused_while_the_required_status_is_not_green(forge):
    pull = forge.open_pull_request(head_sha="a" * 40)
    client = forge_client()
    with pytest.raises(ForgeError) as refused:
        client.merge_pull_request(ref(forge, pull), head_sha="a" * 40)
    assert refused.value.status == 405
    client.set_commit_status("a" * 40, state="success", description="gates decided")
    merge_sha = client.merge_pull_request(ref(forge, pull), head_sha="a" * 40)
    assert merge_sha and forge.pull(pull["number"])["merged"] is True
    assert forge.statuses("a" * 40)[-1]["context"] == "formation-hub/gates"


def test_merge_is_refused_when_the_head_moved(forge):
    forge.require()
    pull = forge.open_pull_request(head_sha="b" * 40)
    forge.push(pull["number"], "c" * 40)
    with pytest.raises(ForgeError) as refused:
        forge_client().merge_pull_request(ref(forge, pull), head_sha="b" * 40)
    assert refused.value.status == 409


def test_review_tag_release_and_issue(forge):
    pull = forge.open_pull_request()
    client = forge_client()
    client.review_pull_request(ref(forge, pull), event="approve", body="Looks right")
    client.create_tag(name="v1.2.0", sha="d" * 40, message="Release v1.2.0")
    url = client.create_release(tag="v1.2.0", name="v1.2.0", body="### Fixed\n- thing", sha="d" * 40)
    number, issue_url = client.create_issue(title="SEV3: export broken", body="details")
    state = forge.state()
    assert state["reviews"][0]["state"] == "APPROVED" and state["reviews"][0]["body"] == "Looks right"
    assert state["tags"]["v1.2.0"]["commit"]["sha"] == "d" * 40
    assert state["releases"][0]["body"] == "### Fixed\n- thing" and url.endswith("/releases/tag/v1.2.0")
    assert issue_url.endswith(f"/issues/{number}")
    paths = {call["path"] for call in forge.calls()}
    prefix = "/api/v1" if forge.kind == "forgejo" else ""
    assert f"{prefix}/repos/formation-hub/app/releases" in paths


def test_a_wrong_token_is_a_clear_error(forge, monkeypatch):
    monkeypatch.setenv("FORGE_TOKEN", "wrong")
    with pytest.raises(ForgeError) as refused:
        forge_client().create_issue(title="x", body="")
    assert refused.value.status == 401 and "401" in refused.value.message
