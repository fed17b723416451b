"""Django logs each refused request (403, 404...) on `django.request` with its traceback, which the root
logger and Django's own debug console handler then print twice. A refusal is expected behaviour, not a
fault: one short line says who was refused where; server errors (5xx) keep their traceback."""

import logging


class ShortClientErrors(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "status_code", 500) < 500:
            record.exc_info = None
            record.exc_text = None
        return True
