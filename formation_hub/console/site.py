from django.contrib import admin

from formation_hub.console.dashboard import panels_for


class OpsAdminSite(admin.AdminSite):
    site_header = "formation-hub ops console"
    site_title = "formation-hub ops console"
    index_title = "What needs you now"
    index_template = "admin/ops_index.html"

    def index(self, request, extra_context=None):
        rendered = panels_for(request)
        needing = [item for item in rendered if item.attention or item.failed]
        return super().index(request, {**(extra_context or {}), "panels": rendered, "needing": needing})
