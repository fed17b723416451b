"""Run the whole product in the foreground: web server, django-q2 cluster and the registered
companion processes (the sync app adds the local Baserow and Docmost stand-ins).

Ctrl-C, SIGTERM, SIGHUP (a closed terminal) or the end of the parent process (`make` stopped) stop every
child; on Linux a child also gets SIGTERM if devserver itself is killed outright."""

import contextlib
import ctypes
import os
import signal
import subprocess
import sys
import time

from django.conf import settings
from django.core.management.base import BaseCommand

from formation_hub.dev.companions import companion_processes
from formation_hub.dev.demo import DEMO_PASSWORD, demo_secrets_missing_from

STOP_SIGNALS = (signal.SIGTERM, signal.SIGHUP)
PR_SET_PDEATHSIG = 1


class StopRequested(Exception):
    """Raised by the signal handler so the main loop stops every child."""


def _raise_stop(signum, frame):
    raise StopRequested(signal.Signals(signum).name)


def _die_with_parent():
    """In the child before exec: SIGTERM when devserver dies, even by SIGKILL (Linux only)."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


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
        environment = self._environment()
        for signum in STOP_SIGNALS:
            signal.signal(signum, _raise_stop)
        parent = os.getppid()
        processes = []
        try:
            for name, command in commands:
                self.stdout.write(f"starting {name}: {' '.join(command[1:])}")
                processes.append((name, subprocess.Popen(  # noqa: S603 - our own commands
                    command, env=environment,
                    preexec_fn=_die_with_parent if sys.platform == "linux" else None)))  # noqa: PLW1509
            self.stdout.write(
                self.style.SUCCESS(
                    f"\nformation-hub ops console: http://{host}:{port}/admin/  (login admin / {DEMO_PASSWORD})\n"
                    f"on-call pages: http://{host}:{port}/oncall/  health: http://{host}:{port}/healthz\n"
                    "Ctrl-C stops everything.\n"
                ),
            )
            self.stdout.flush()
            while all(process.poll() is None for _, process in processes):
                if os.getppid() != parent:
                    raise StopRequested("parent process ended")
                time.sleep(0.5)
            stopped = [name for name, process in processes if process.poll() is not None]
            self.stderr.write(f"{', '.join(stopped)} stopped; stopping the rest.")
        except KeyboardInterrupt:
            self.stdout.write("\nstopping...")
        except StopRequested as reason:
            self.stdout.write(f"\n{reason}: stopping...")
        finally:
            for signum in STOP_SIGNALS:
                signal.signal(signum, signal.SIG_IGN)
            self._stop(processes)

    def _environment(self) -> dict[str, str]:
        """The children's environment; in DEBUG, the demo secrets the environment leaves empty, printed."""
        environment = dict(os.environ)
        if not settings.DEBUG:
            return environment
        demo_secrets = demo_secrets_missing_from(environment)
        if demo_secrets:
            environment.update(demo_secrets)
            self.stdout.write("demo secrets (DEBUG only), for the README's curl commands:")
            for name, value in demo_secrets.items():
                self.stdout.write(f"  export {name}={value}")
        return environment

    @staticmethod
    def _stop(processes):
        for _, process in processes:
            if process.poll() is None:
                process.send_signal(signal.SIGINT)
        deadline = time.monotonic() + 10
        for _, process in processes:
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
