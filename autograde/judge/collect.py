"""Find the results a kernel displayed in a cell's outputs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..probe import MIME_TYPE


@dataclass
class Probe:
    """One result as displayed by :func:`autograde.probe.report` (still untrusted)."""

    check: str
    spec: dict
    value: Any = None  # still encoded
    error: str | None = None


def collect_probes(cell: Any) -> tuple[dict[str, Probe], list[str]]:
    """Return the probes in a cell by check name, and the names reported more than once.

    A name reported twice means something besides the hidden test displayed
    results; the grader treats such a check as failed rather than pick one.
    """
    probes: dict[str, Probe] = {}
    duplicated: list[str] = []
    for output in cell.get("outputs", []):
        payload = output.get("data", {}).get(MIME_TYPE) if isinstance(output.get("data"), dict) else None
        if not isinstance(payload, dict) or not isinstance(payload.get("check"), str):
            continue
        name = payload["check"]
        if name in probes:
            duplicated.append(name)
            continue
        spec = payload.get("spec") if isinstance(payload.get("spec"), dict) else {}
        error = payload.get("error")
        probes[name] = Probe(name, spec, payload.get("value"), str(error) if error is not None else None)
    return probes, duplicated
