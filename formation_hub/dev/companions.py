"""Companion processes `manage.py devserver` starts beside the web server and the worker.

Apps register them from AppConfig.ready (the sync app registers the local stand-ins), so the core
never imports an app or the sandbox.
"""

_processes: list[tuple[str, list[str]]] = []


def register_companion_process(name: str, command: list[str]) -> None:
    _processes.append((name, command))


def companion_processes() -> list[tuple[str, list[str]]]:
    return list(_processes)
