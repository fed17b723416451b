"""`python -m sandbox.docmost` with its state file written by one thread at a time.

The stand-in saves its whole state after every successful call through one fixed temporary file; two calls
finishing together race on it (FileNotFoundError, a 500 after the write happened, and possibly an older
snapshot written last). Chaos restarts Docmost from that file, so it needs the saves serialised.
"""

import threading

from sandbox.docmost import __main__ as docmost_main
from sandbox.docmost.server import DocmostStandIn

_save_lock = threading.Lock()
_unserialised_save = DocmostStandIn._save


def _serialised_save(self) -> None:
    with _save_lock:
        _unserialised_save(self)


DocmostStandIn._save = _serialised_save

if __name__ == "__main__":
    docmost_main.main()
