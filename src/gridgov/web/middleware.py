"""The interface speaks zh-hans unless the user picked another language with the switch."""

from django.conf import settings


class DefaultLanguageMiddleware:
    """Ignore the browser's Accept-Language, so LocaleMiddleware falls back to LANGUAGE_CODE.

    Staff machines and kiosks often run English browsers; the platform's working language is
    Chinese. The language switch sets a cookie, which LocaleMiddleware still honours.
    Place before django.middleware.locale.LocaleMiddleware.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if settings.LANGUAGE_COOKIE_NAME not in request.COOKIES:
            request.META.pop("HTTP_ACCEPT_LANGUAGE", None)
        return self.get_response(request)
