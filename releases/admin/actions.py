"""Buttons on a console change page: one logged-in POST per action, each calling one service."""

from collections.abc import Callable

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import path, reverse

from formation_hub.errors import DomainError


class ObjectActionsMixin:
    """`get_object_actions()` maps an action name to a service adapter `fn(<object_argument>=obj, user=,
    data=)` returning the success message; a refusal (DomainError) is shown as it is."""

    object_argument: str = ""

    def get_object_actions(self) -> dict[str, Callable[..., str]]:
        raise NotImplementedError

    def object_action_name(self, action: str) -> str:
        return f"{self.opts.app_label}_{self.opts.model_name}_{action}"

    def object_action_urls(self) -> list:
        return [
            path(f"<int:object_id>/{name}/", self.admin_site.admin_view(self.object_action_view), {"action": name},
                 name=self.object_action_name(name))
            for name in self.get_object_actions()
        ]

    def object_action_links(self, obj) -> dict[str, str]:
        return {
            name: reverse(f"admin:{self.object_action_name(name)}", args=[obj.pk]) for name in self.get_object_actions()
        }

    def may_run_object_action(self, request, action: str) -> bool:
        return self.has_change_permission(request)

    def object_action_view(self, request, object_id, action):
        change_url = reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_change", args=[object_id])
        if request.method != "POST":
            return HttpResponseRedirect(change_url)
        if not self.may_run_object_action(request, action):
            raise PermissionDenied
        obj = get_object_or_404(self.model, pk=object_id)
        try:
            service = self.get_object_actions()[action]
            message = service(**{self.object_argument: obj}, user=request.user, data=request.POST)
        except DomainError as error:
            self.message_user(request, error.message, messages.ERROR)
        else:
            self.message_user(request, message, messages.SUCCESS)
        return HttpResponseRedirect(change_url)
