"""The live event bus: publish in any process, stream to screens over Server-Sent Events.

Design (docs/screen.md, "Live events"):
- `publish(kind, data, region_code=...)` appends a row to the `LiveEvent` outbox inside the
  caller's transaction, so an event exists exactly when its change was committed. On
  PostgreSQL it also sends NOTIFY, which the database delivers at commit.
- Each server process runs one `Hub` (gridgov.live.hub): a single poller thread that reads
  new rows (woken by LISTEN on PostgreSQL, by a short timer on SQLite, and at once by
  publishes made in the same process) and fans them out to every connected client through
  in-memory queues. Clients hold no thread and no database connection while idle.
- The row id is the SSE event id: a reconnecting client sends Last-Event-ID and gets what
  it missed, from the hub's ring buffer or, for older gaps, from the outbox.
"""

from .bus import publish, publish_many

__all__ = ["publish", "publish_many"]
