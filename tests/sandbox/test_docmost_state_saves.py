"""The Docmost stand-in's state file survives concurrent writes (chaos restarts it from that file)."""

import json
import threading

from sandbox.docmost.server import DocmostStandIn


def test_concurrent_saves_leave_a_complete_state_file_and_never_fail(tmp_path):
    state = tmp_path / "docmost.json"
    standin = DocmostStandIn(port=0, demo=True, state_file=str(state))
    errors = []

    def save_many():
        try:
            for _ in range(50):
                standin._save()
        except OSError as error:
            errors.append(error)

    threads = [threading.Thread(target=save_many) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert set(json.loads(state.read_text())) == set(DocmostStandIn.PERSISTED)
