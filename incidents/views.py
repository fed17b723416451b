from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, render

from incidents.models import Page


@login_required
def page_detail(request, page_id):
    page = get_object_or_404(Page, pk=page_id)
    return render(request, "oncall/page.html", {"page": page})
