"""The big screen page (/screen/). It carries no data: the page loads the overview API
with the same credentials (kiosk token or the leader's session) and then listens to the
live stream."""

from django.contrib.auth.views import redirect_to_login
from django.shortcuts import render
from django.utils.translation import pgettext
from django.views.decorators.http import require_GET

from gridgov.core.errors import Forbidden

from .access import kiosk_viewer, leader_viewer, token_from_request


@require_GET
def screen(request):
    raw_token = token_from_request(request)
    try:
        if raw_token is not None:
            viewer = kiosk_viewer(raw_token)
        elif not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        else:
            viewer = leader_viewer(request.user)
    except Forbidden as error:
        return render(request, "screen/denied.html", {"message": error.message}, status=403)
    context = {"viewer": viewer, "token": raw_token or "", "strings": client_strings()}
    response = render(request, "screen/screen.html", context)
    # The token is in the URL: keep it out of Referer headers and shared caches.
    response["Referrer-Policy"] = "no-referrer"
    response["Cache-Control"] = "no-store"
    return response


def client_strings():
    """Text the script writes into the page, translated here."""
    return {
        "rates_note": pgettext("screen", "Cases of the last 30 days; hover a ring for its definition."),
        "live": pgettext("screen", "Live"),
        "reconnecting": pgettext("screen", "Reconnecting"),
        "stale": pgettext("screen", "Connection lost"),
        "updated": pgettext("screen", "Updated"),
        "no_data": pgettext("screen", "No data"),
        "no_whistles": pgettext("screen", "No whistle events"),
        "created": pgettext("screen", "Reported"),
        "closed": pgettext("screen", "Closed"),
        "cases": pgettext("screen", "cases"),
        "online": pgettext("screen", "Online"),
        "offline": pgettext("screen", "Offline"),
        "last_seen": pgettext("screen", "Last seen"),
        "inspector": pgettext("screen", "Grid inspector"),
        "camera": pgettext("screen", "Camera"),
        "grid": pgettext("screen", "Grid"),
        "department": pgettext("screen", "Department"),
        "reporter": pgettext("screen", "Reporter"),
        "due": pgettext("screen", "Due"),
        "reported_at": pgettext("screen", "Reported at"),
        "open_cases": pgettext("screen", "Open cases"),
        "overdue": pgettext("screen", "Overdue"),
        "warning": pgettext("screen", "Warning"),
        "normal": pgettext("screen", "Normal"),
        "load": pgettext("screen", "Case load"),
        "clock": pgettext("screen", "Time limits"),
        "heat": pgettext("screen", "Heat map"),
        "new_case": pgettext("screen", "New case"),
        "alarm": pgettext("screen", "Alarm"),
        "position": pgettext("screen", "Patrol"),
        "camera_offline": pgettext("screen", "Camera offline"),
        "camera_online": pgettext("screen", "Camera back online"),
        "days7": pgettext("screen", "Last 7 days"),
        "days30": pgettext("screen", "Last 30 days"),
        "by_department": pgettext("screen", "Departments"),
        "by_community": pgettext("screen", "Communities"),
        "closure_rate": pgettext("screen", "Closure rate"),
        "satisfaction": pgettext("screen", "Satisfaction"),
        "source": pgettext("screen", "Source"),
        "month": pgettext("screen", "Month"),
        "denied": pgettext("screen", "Access to this screen has ended."),
        "not_configured": pgettext("screen", "Category not set up in the catalogue"),
    }
