"""State changes of the video app (one function per transition). The functions live in
`cameras` (status, sweep, registry) and `alarms` (intake, rules, cases, dismissal)."""

from . import permissions  # noqa: F401
from .cameras import record_heartbeats, save_cameras, set_camera_status, stream_url_for, sweep_silent_cameras

__all__ = ["record_heartbeats", "save_cameras", "set_camera_status", "stream_url_for", "sweep_silent_cameras"]
from .alarms import dismiss_alarm, ingest, open_case_for_alarm  # noqa: E402

__all__ += ["dismiss_alarm", "ingest", "open_case_for_alarm"]
