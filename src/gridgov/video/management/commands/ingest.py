"""`gridgov ingest`: the long-running MQTT worker for alarms and camera heartbeats."""

import os
import sys

from django.core.management.base import BaseCommand, CommandError

from gridgov.video.ingest import BATCH_SIZE, IngestWorker


class Command(BaseCommand):
    help = "Subscribe to frigate/events, frigate/reviews, gridgov/alarms/+ and gridgov/heartbeat/# (QoS 1, persistent session) and store alarms."

    def add_arguments(self, parser):
        parser.add_argument("--url", default=os.environ.get("MQTT_URL", "mqtt://127.0.0.1:1883"), help="Broker URL (default: $MQTT_URL).")
        parser.add_argument("--client-id", default=None, help="Fixed client id of the persistent session.")
        parser.add_argument("--prefix", default=os.environ.get("GRIDGOV_MQTT_PREFIX", ""), help="Prefix of every topic, e.g. site1/.")
        parser.add_argument("--sweep-seconds", type=int, default=60, help="How often silent cameras are marked offline (0: never).")
        parser.add_argument("--batch-size", type=int, default=BATCH_SIZE, help="Messages per transaction (at most).")

    def handle(self, *args, **options):
        worker = IngestWorker(
            options["url"], client_id=options["client_id"], prefix=options["prefix"],
            sweep_seconds=options["sweep_seconds"], out=sys.stdout, batch_size=max(1, options["batch_size"]),
        )
        try:
            worker.run()
        except (OSError, ValueError) as exc:
            raise CommandError(f"cannot reach the broker at {options['url']}: {exc}") from exc
        self.stdout.write(f"ingest: stopped after {worker.processed} messages ({worker.rejected} refused) in {worker.batches} batches")
