"""The payload of ``evidence.attached``, built in one place for the upload service and for bulk
loaders (the scale generator), so the event has one shape wherever it is written."""

from __future__ import annotations

from collections.abc import Iterable


def attached(*, run_id: int, filename: str, sha256: str, size: int, format: str, suite: str,
             model_id: str, model_version: str, passed: int, failed: int, errored: int,
             skipped: int, edge_total: int, edge_passed: int, gates: Iterable) -> dict:
    """What a stored run says: its file, what it tested, its totals and each gate's status
    (``gates``: the evaluated gates, each with ``key`` and ``status``)."""
    return {
        "run_id": run_id, "filename": filename, "sha256": sha256, "size": size,
        "format": format, "suite": suite, "model_id": model_id, "model_version": model_version,
        "totals": {"passed": passed, "failed": failed, "errored": errored, "skipped": skipped},
        "edge": {"total": edge_total, "passed": edge_passed},
        "gates": {gate.key: gate.status for gate in gates},
    }
