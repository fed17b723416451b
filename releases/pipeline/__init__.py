"""The release pipeline (issue 7), one module per step, each write with its state guard and audit entry.

draft -> prerequisites met -> [staging gate] staging validated -> [tag gate] tagged -> [production approval
gate] approved -> deploying -> smoke passed -> watching -> [watch gate] released; or aborted / rolled back.
Gates go through formation_hub.gates.decisions; `gates.py` names the handler of each decision.
"""
