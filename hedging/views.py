from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.utils import timezone

from hedging.models import DailySession


@login_required
def dashboard(request):
    today = timezone.localdate()
    sessions = DailySession.objects.filter(date=today, is_replay=False).select_related("account")
    return render(request, "hedging/dashboard.html", {"sessions": sessions, "today": today})
