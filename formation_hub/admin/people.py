"""Console pages of people, groups and API tokens (each change audited; nobody grants more than they
have), and of the third-party lists whose actions change state."""

from axes.admin import AccessAttemptAdmin
from axes.models import AccessAttempt
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import GroupAdmin, UserAdmin
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django_q import admin as django_q_admin
from django_q.models import Failure, Success
from rest_framework.authtoken.models import TokenProxy

from formation_hub.access import api_tokens, people
from formation_hub.errors import DomainError
from formation_hub.models import ApiToken

User = get_user_model()


# --- people, groups and API tokens (audited; nobody grants more than they have) -------------------------


def _group_names(user) -> set[str]:
    return set(user.groups.values_list("name", flat=True)) if user.pk else set()


class AuditedUserAdmin(UserAdmin):
    """Every change of a person is an audit entry; only a superuser touches superusers and one-by-one
    permissions (otherwise an admin could make themself superuser, or act as one by resetting a password)."""

    def get_readonly_fields(self, request, obj=None):
        readonly = super().get_readonly_fields(request, obj)
        if request.user.is_superuser:
            return readonly
        return (*readonly, "is_superuser", "user_permissions")

    def has_change_permission(self, request, obj=None):
        if obj is not None and obj.is_superuser and not request.user.is_superuser:
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        if obj is not None and obj.is_superuser and not request.user.is_superuser:
            return False
        return super().has_delete_permission(request, obj)

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        changed = [name for name in form.changed_data if name not in ("groups", "user_permissions")]
        people.person_saved(person=obj, actor=request.user, created=not change,
                            changes={name: form.cleaned_data.get(name) for name in changed})

    def save_related(self, request, form, formsets, change):
        before = _group_names(form.instance) if change else set()
        super().save_related(request, form, formsets, change)
        people.person_groups_changed(person=form.instance, actor=request.user, before=before,
                                     after=_group_names(form.instance))

    def delete_model(self, request, obj):
        people.person_deleted(person=obj, actor=request.user)
        super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        for person in queryset:
            self.delete_model(request, person)


class AuditedGroupAdmin(GroupAdmin):
    """A role's permissions are set by the apps' migrations: only a superuser changes them here, audited."""

    def get_readonly_fields(self, request, obj=None):
        readonly = super().get_readonly_fields(request, obj)
        return readonly if request.user.is_superuser else (*readonly, "permissions")

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        changed = [name for name in form.changed_data if name != "permissions"]
        people.group_saved(group=obj, actor=request.user, created=not change,
                           changes={name: form.cleaned_data.get(name) for name in changed})

    def save_related(self, request, form, formsets, change):
        def codenames(group):
            return set(group.permissions.values_list("codename", flat=True)) if group.pk else set()

        before = codenames(form.instance) if change else set()
        super().save_related(request, form, formsets, change)
        people.group_permissions_changed(group=form.instance, actor=request.user, before=before,
                                         after=codenames(form.instance))


@admin.action(description="Revoke the selected tokens", permissions=["revoke"])
def revoke_tokens(modeladmin, request, queryset):
    revoked = 0
    for token in queryset.select_related("user"):
        try:
            api_tokens.token_revoke(token=token, actor=request.user)
        except DomainError as error:
            modeladmin.message_user(request, error.message, messages.WARNING)
        else:
            revoked += 1
    if revoked:
        modeladmin.message_user(request, f"{revoked} token(s) revoked: calls with them are refused.", messages.SUCCESS)


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """API tokens: each person makes their own (the key is shown once, then only its first characters;
    making a new one revokes the old) and sees and revokes their own; an admin sees and revokes anyone's.
    Decisions through the API are recorded as the token's owner, so no one mints a token for someone else."""

    list_display = ("key_shown", "user", "created_at", "last_used_at", "revoked_at", "revoked_by")
    list_filter = (("revoked_at", admin.EmptyFieldListFilter),)
    list_select_related = ("user", "revoked_by")
    search_fields = ("=key_prefix", "user__username")
    fields = list_display
    readonly_fields = list_display
    actions = [revoke_tokens]

    @admin.display(description="key")
    def key_shown(self, token):
        return f"{token.key_prefix}..."

    def get_queryset(self, request):
        tokens = super().get_queryset(request)
        return tokens if request.user.has_perm(api_tokens.REVOKE_ANY) else tokens.filter(user=request.user)

    def has_add_permission(self, request):
        # Everyone signed in to the console makes their own token (it acts with their permissions only).
        return request.user.is_active and request.user.is_staff

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_revoke_permission(self, request):
        return self.has_view_permission(request)

    def add_view(self, request, form_url="", extra_context=None):
        if not self.has_add_permission(request):
            raise PermissionDenied
        if request.method == "POST":
            _token, key = api_tokens.token_create(owner=request.user, actor=request.user)
            self.message_user(request, f"Your API token (shown once, copy it now): {key}", messages.WARNING)
            return HttpResponseRedirect(reverse("admin:formation_hub_apitoken_changelist"))
        context = {**self.admin_site.each_context(request), "title": "Make your API token", "opts": self.opts,
                   "owner": request.user}
        return TemplateResponse(request, "admin/formation_hub/apitoken/own_token_form.html", context)


if admin.site.is_registered(TokenProxy):
    # DRF's token page shows keys in clear; its table is emptied by migration formation_hub 0008.
    admin.site.unregister(TokenProxy)

# --- third-party lists whose actions change state: each action needs the permission it uses -------------


@admin.action(description="Resubmit the selected tasks", permissions=["change"])
def resubmit_task(modeladmin, request, queryset):
    """Runs the task's function again: only whoever may change django-q2's rows (a superuser)."""
    return django_q_admin.resubmit_task(modeladmin, request, queryset)


class ResubmitBySuperuserTaskAdmin(django_q_admin.TaskAdmin):
    actions = [resubmit_task]


class ResubmitBySuperuserFailAdmin(django_q_admin.FailAdmin):
    actions = [resubmit_task]


class CleanupByDeletersAccessAttemptAdmin(AccessAttemptAdmin):
    @admin.action(description="Clean up expired attempts", permissions=["delete"])
    def cleanup_expired_attempts(self, request, queryset):
        return super().cleanup_expired_attempts(request, queryset)


for model, model_admin in ((User, AuditedUserAdmin), (Group, AuditedGroupAdmin),
                           (Success, ResubmitBySuperuserTaskAdmin), (Failure, ResubmitBySuperuserFailAdmin),
                           (AccessAttempt, CleanupByDeletersAccessAttemptAdmin)):
    if admin.site.is_registered(model):
        admin.site.unregister(model)
    admin.site.register(model, model_admin)
