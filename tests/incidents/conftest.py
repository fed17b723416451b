import pytest

from tests.incidents.factories import RotationFactory, RotationMemberFactory


@pytest.fixture
def responder(make_user):
    return make_user("oncall-olga", "oncall", email="olga@formation-hub.test")


@pytest.fixture
def rotation(make_user):
    """Weekly Monday 10:00 Paris handoff from Monday 5 January 2026: alice, bruno, carla in turn."""
    rotation = RotationFactory(name="primary")
    for position, name in enumerate(["alice", "bruno", "carla"]):
        RotationMemberFactory(rotation=rotation, user=make_user(name, "oncall"), position=position)
    return rotation


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """Factories hash 'pw-for-tests' for every user; the default hasher makes that the slowest part."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
