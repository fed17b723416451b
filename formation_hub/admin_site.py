from django.contrib import admin

from formation_hub.dashboard import panels


class OpsAdminSite(admin.AdminSite):
    site_header = "formation-hub ops console"
    site_title = "formation-hub ops console"
    index_title = "What needs you now"
    index_template = "admin/ops_index.html"

    def index(self, request, extra_context=None):
        rendered = []
        for panel in panels():
            context = panel.context(request)
            if context is None:
                continue
            rendered.append({"panel": panel, "context": context})
        return super().index(request, {**(extra_context or {}), "panels": rendered})
