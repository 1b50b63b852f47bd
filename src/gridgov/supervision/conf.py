"""Settings of the supervision app, with their defaults (override in settings.py or env).

GRIDGOV_SUPERVISION = {
    "check_in_minutes": 30,          # 吹哨报到: departments check in within this many minutes
    "urge_reply_hours": 24,          # 催办: reply within (natural hours)
    "supervision_reply_hours": 72,   # 督办: reply within (natural hours)
    "sweep_seconds": 60,             # `gridgov worker`: how often the SLA sweep runs
    "thresholds": (70, 90, 100),     # percent of a clock's allowed time that notify the owner
    "second_escalation": 200,        # percent (wall time) at which subdistrict leaders are told
    "max_warnings_per_pass": 10000,  # a longer backlog drains in further passes, one after another
}
GRIDGOV_NOTIFY_CHANNELS = ["gridgov.supervision.channels.LoggingChannel"]  # plus SmsChannel, WeComChannel
"""

from django.conf import settings

DEFAULTS = {
    "check_in_minutes": 30,
    "urge_reply_hours": 24,
    "supervision_reply_hours": 72,
    "sweep_seconds": 60,
    "thresholds": (70, 90, 100),
    "second_escalation": 200,
    "max_warnings_per_pass": 10000,
}


def setting(name):
    return getattr(settings, "GRIDGOV_SUPERVISION", {}).get(name, DEFAULTS[name])
