from django.db import connection
from django.http import JsonResponse

from gridgov import __version__


def healthz(request):
    """Liveness and database status for load balancers and `make demo`."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        database = {"status": "ok", "vendor": connection.vendor}
        code = 200
    except Exception as exc:  # any driver error means the database is not usable
        database = {"status": "error", "vendor": connection.vendor, "error": exc.__class__.__name__}
        code = 503
    return JsonResponse({"status": "ok" if code == 200 else "degraded", "version": __version__, "database": database}, status=code)
