import factory
from django.contrib.auth import get_user_model


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda user: f"{user.username}@formation-hub.test")
    is_staff = True
    password = factory.django.Password("pw-for-tests")


def api_key_for(user) -> str:
    """The key of a new API token of this user, made as they would make it (for `Authorization: Token`)."""
    from formation_hub.access.api_tokens import token_create

    return token_create(owner=user, actor=user)[1]
