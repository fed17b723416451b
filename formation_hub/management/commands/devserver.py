"""Run the whole product in the foreground: web server, django-q2 cluster and the registered
companion processes (the sync app adds the local Baserow and Docmost stand-ins). Ctrl-C stops all."""

import signal
import subprocess
import sys
import time

from django.core.management.base import BaseCommand

from formation_hub.demo import DEMO_PASSWORD
from formation_hub.devprocesses import companion_processes


class Command(BaseCommand):
    help = "Run the web server, a django-q2 cluster and the local stand-ins together (Ctrl-C stops all)."

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--host", default="127.0.0.1")

    def handle(self, *args, host, port, **options):
        python = sys.executable
        commands = [
            ("web", [python, "manage.py", "runserver", f"{host}:{port}", "--noreload"]),
            ("worker", [python, "manage.py", "qcluster"]),
            *companion_processes(),
        ]
        processes = []
        for name, command in commands:
            self.stdout.write(f"starting {name}: {' '.join(command[1:])}")
            processes.append((name, subprocess.Popen(command)))  # noqa: S603 - our own commands
        self.stdout.write(
            self.style.SUCCESS(
                f"\nformation-hub ops console: http://{host}:{port}/admin/  (login admin / {DEMO_PASSWORD})\n"
                f"on-call pages: http://{host}:{port}/oncall/  health: http://{host}:{port}/healthz\n"
                "Ctrl-C stops everything.\n"
            )
        )
        try:
            while all(process.poll() is None for _, process in processes):
                time.sleep(0.5)
            stopped = [name for name, process in processes if process.poll() is not None]
            self.stderr.write(f"{', '.join(stopped)} stopped; stopping the rest.")
        except KeyboardInterrupt:
            self.stdout.write("\nstopping...")
        finally:
            for _, process in processes:
                if process.poll() is None:
                    process.send_signal(signal.SIGINT)
            deadline = time.monotonic() + 10
            for _, process in processes:
                try:
                    process.wait(timeout=max(0.1, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    process.kill()
