"""The stand-in answers the captured requests of real Docmost 0.95 with the same shapes (issue 13).

`contracts/docmost-0.95-real/` holds 119 request/answer pairs of a real Docmost. Each request is sent
again to a fresh stand-in, in order, with the real ids replaced by the stand-in's (learnt from the
answers as the replay goes, the demo's spaces standing for the two the real run created), and the
answer is compared with the real one: same status, same keys at every level, same JSON types, and for
an error the same message (validation messages included). Other values are not compared (ids, dates,
ProseMirror node ids differ by nature). A file in NOT_REPLAYED or INTENDED says why it is not compared
or why its difference is accepted.
"""

import json
import os
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from sandbox.docmost import BOT_PASSWORD, DocmostStandIn
from tests.standins import DocmostHandle, http_json

pytestmark = pytest.mark.contract

# The captures live beside the checkout (../shared/contracts/), not in it; DOCMOST_CAPTURES says where else.
CAPTURES = Path(os.environ.get("DOCMOST_CAPTURES")
                or Path(__file__).resolve().parents[3] / "shared/contracts/docmost-0.95-real")

ID_KEYS = frozenset({"id", "slugId", "pageId", "spaceId", "parentPageId", "creatorId", "lastUpdatedById",
                     "workspaceId", "key", "defaultSpaceId"})
REAL_OWNER = "admin@docmost.test"

NOT_REPLAYED = {
    1: "workspace setup: the stand-in starts from its demo workspace and has no setup route",
    2: "space creation: the demo's Agence space stands for it (ids mapped by slug)",
    3: "space creation: the demo's Formations space stands for it (ids mapped by slug)",
    66: "logout revokes the session the real run used next; the replay signs every call in afresh",
}

# Accepted differences, with the reason. Everything else must match key for key.
USERS_ME = ("users/me: formation-hub never reads it (tests and tools only); the stand-in answers the user's "
            "id, name, email and role and the workspace's id and name, not the profile, billing and SSO settings")
INTENDED = {71: USERS_ME, 74: USERS_ME, 98: USERS_ME}


def _captures() -> list[dict]:
    files = sorted(path for path in CAPTURES.glob("[0-9][0-9][0-9]-*.json"))
    return [json.loads(path.read_text()) | {"file": path.name} for path in files]


def _shape_differences(real, standin, path: str = "") -> list[str]:
    """Where the two JSON values differ in shape: missing or extra keys, other types (None is a type)."""
    if isinstance(real, dict) and isinstance(standin, dict):
        if real.get("type") == "doc" and standin.get("type") == "doc":
            return []  # ProseMirror documents: node attributes differ by editor version, compared elsewhere
        differences = [f"{path}.{key}: missing in the stand-in" for key in sorted(set(real) - set(standin))]
        differences += [f"{path}.{key}: only in the stand-in" for key in sorted(set(standin) - set(real))]
        for key in sorted(set(real) & set(standin)):
            differences += _shape_differences(real[key], standin[key], f"{path}.{key}")
        return differences
    if isinstance(real, list) and isinstance(standin, list):
        if real and standin:
            return _shape_differences(real[0], standin[0], f"{path}[0]")
        return []
    if type(real) is not type(standin) and not (isinstance(real, int | float) and isinstance(standin, int | float)):
        return [f"{path}: {type(real).__name__} in Docmost, {type(standin).__name__} in the stand-in"]
    return []


def _learn_ids(real, standin, ids: dict) -> None:
    if isinstance(real, dict) and isinstance(standin, dict):
        for key in set(real) & set(standin):
            if key in ID_KEYS and isinstance(real[key], str) and isinstance(standin[key], str):
                ids.setdefault(real[key], standin[key])
            elif key != "items":  # list items may come in another order: never paired for ids
                _learn_ids(real[key], standin[key], ids)


def _with_ids(value, ids: dict):
    if isinstance(value, dict):
        return {key: _with_ids(item, ids) for key, item in value.items()}
    if isinstance(value, list):
        return [_with_ids(item, ids) for item in value]
    if isinstance(value, str):
        return ids.get(value, value)
    return value


def _request_for(capture: dict, standin, ids: dict) -> tuple[dict | None, dict]:
    request = capture["request"]
    body = _with_ids(request.get("body"), ids)
    if request["path"] == "/api/auth/login":
        if isinstance(body, dict) and body.get("email") == REAL_OWNER:
            body = {"email": standin.bot_email, "password": BOT_PASSWORD}
        return body, {}
    if "api_key" in capture["phase"]:  # a key signed by the workspace, refused by the community edition
        bot = standin.demo_ids["bot_user_id"]
        return body, {"Authorization": f"Bearer {standin.server.create_api_key(user_id=bot, name='replay')['token']}"}
    if capture["response"]["status"] == 401:
        return body, {"Authorization": "Bearer not-a-valid-token"}
    return body, {"Authorization": f"Bearer {standin.server.login_token()}"}


def _replay(standin) -> list[tuple[dict, int, object]]:
    ids: dict[str, str] = {}
    for real_slug in ("agence", "formations"):
        space = standin.server.find_space(real_slug)
        created = [(c["response"]["body"].get("data") or {}) for c in _captures()[:3]]
        ids[next(data["id"] for data in created if data.get("slug") == real_slug)] = space["id"]
    answers = []
    burst_started = False
    for capture in _captures():
        seq = capture["seq"]
        if seq in NOT_REPLAYED:
            continue
        if capture["phase"] == "login_throttle_burst" and not burst_started:
            # The real limiter had counted one auth call of the same minute before the burst: start alike.
            burst_started = True
            standin.configure(login_limit=10)
            http_json("POST", f"{standin.url}/api/auth/login", {"email": standin.bot_email, "password": BOT_PASSWORD})
        request = capture["request"]
        body, headers = _request_for(capture, standin, ids)
        if isinstance(request.get("body"), str):  # a body that is not JSON on purpose
            status, answer = _raw_post(standin.url + request["path"], request["body"], headers)
        elif request["method"] == "GET":
            status, answer, _ = http_json("GET", standin.url + request["path"], None, headers)
        else:
            status, answer, _ = http_json(request["method"], standin.url + request["path"], body, headers)
        _learn_ids(capture["response"]["body"], answer, ids)
        answers.append((capture, status, answer))
    return answers


def _raw_post(url: str, text: str, headers: dict) -> tuple[int, object]:
    request = urllib.request.Request(url, data=text.encode(), method="POST",
                                     headers={"Content-Type": "application/json", **headers})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


@pytest.fixture(scope="module")
def replayed():
    if not CAPTURES.is_dir():
        pytest.skip(f"no captures at {CAPTURES} (set DOCMOST_CAPTURES to contracts/docmost-0.95-real)")
    server = DocmostStandIn(demo=True).start()
    try:
        yield _replay(DocmostHandle(server))
    finally:
        server.stop()


def test_every_captured_answer_has_the_real_status_and_shape(replayed):
    differences = {}
    for capture, status, answer in replayed:
        if capture["seq"] in INTENDED:
            continue
        real = capture["response"]
        found = []
        if status != real["status"]:
            found.append(f"status {real['status']} in Docmost, {status} in the stand-in")
        else:
            found += _shape_differences(real["body"], answer)
        if status >= 400 and isinstance(answer, dict) and answer.get("message") != real["body"].get("message"):
            message = real["body"].get("message")
            found.append(f"message {message!r} in Docmost, {answer.get('message')!r} in the stand-in")
        if found:
            differences[capture["file"]] = found

    assert differences == {}
    assert len(replayed) == len(_captures()) - len(NOT_REPLAYED)


def test_the_accepted_differences_are_still_differences(replayed):
    """An entry of INTENDED that the stand-in no longer needs is removed, so the list stays true."""
    still_different = {capture["seq"] for capture, status, answer in replayed if capture["seq"] in INTENDED
                       and _shape_differences(capture["response"]["body"], answer)}

    assert still_different == set(INTENDED)
