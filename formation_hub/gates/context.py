"""What a person needs on a gate's decision page to decide from that one page.

An app registers a describer per gate type (from its AppConfig.ready): it returns what is decided
in plain words, the object it is about (with its console link), the requester's reason and the
evidence (a failing prerequisite, a CI run, a SHA, a pull request). A gate type without one gets
its object's name and link.
"""

from collections.abc import Callable
from dataclasses import dataclass, field

from django.contrib.admin.utils import quote
from django.urls import NoReverseMatch, reverse

from formation_hub.models import Gate


@dataclass(frozen=True)
class Evidence:
    label: str
    text: str
    url: str = ""
    failing: bool = False


@dataclass(frozen=True)
class GateContext:
    what: str
    subject_label: str
    subject_url: str = ""
    reason: str = ""
    reason_by: str = ""
    evidence: tuple[Evidence, ...] = field(default=())


_describers: dict[str, Callable[[Gate, object], GateContext]] = {}


def register_gate_context(gate_type: str, describe: Callable[[Gate, object], GateContext]) -> None:
    _describers[gate_type] = describe


def admin_change_url(obj) -> str:
    """The console page of obj, or "" when its model has none."""
    meta = obj._meta
    try:
        return reverse(f"admin:{meta.app_label}_{meta.model_name}_change", args=[quote(obj.pk)])
    except NoReverseMatch:
        return ""


def gate_target_url(gate: Gate) -> str:
    """The console page of the gate's object, without loading it (for lists)."""
    content_type = gate.content_type
    try:
        return reverse(f"admin:{content_type.app_label}_{content_type.model}_change", args=[quote(gate.object_id)])
    except NoReverseMatch:
        return ""


def gate_context(gate: Gate) -> GateContext:
    target = gate.target
    describe = _describers.get(gate.gate_type)
    if describe is not None:
        return describe(gate, target)
    return GateContext(what=str(target), subject_label=str(target), subject_url=admin_change_url(target))
