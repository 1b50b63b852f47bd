"""Admin text from Django and third-party apps that ships without a Chinese translation.

Django 5.2's own zh_Hans catalogue lacks the admin index's table captions (read out by
screen readers), and django-axes and django-tasks-db have no zh_Hans catalogue at all, so the
system administrator's admin pages showed them in English. They are marked here so that
`make messages` keeps them in core's catalogue, which Django searches as well (an app's
catalogue only fills gaps: none of these ids has a translation anywhere else).
"""

from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop

ADMIN_TEXT = [
    # django/contrib/admin/templates/admin/app_list.html
    gettext_noop("Model name"),
    gettext_noop("Add link"),
    gettext_noop("Change or view list link"),
    # axes.models
    gettext_noop("access attempt"),
    gettext_noop("access attempts"),
    gettext_noop("access failure"),
    gettext_noop("access failures"),
    gettext_noop("access log"),
    gettext_noop("access logs"),
    gettext_noop("access attempt expiration"),
    gettext_noop("access attempt expirations"),
    # django_tasks_db.models
    gettext_noop("Task Result"),
    gettext_noop("Task Results"),
]

# Their AppConfig names are plain strings ("Axes", "Tasks Database Backend"); app label -> name.
APP_NAMES = {
    "axes": _("Sign-in lockout"),
    "django_tasks_database": _("Background tasks"),
}


def name_third_party_apps():
    """Give the third-party apps translatable names in the admin (from CoreConfig.ready)."""
    from django.apps import apps

    for label, name in APP_NAMES.items():
        if label in apps.app_configs:
            apps.get_app_config(label).verbose_name = name
