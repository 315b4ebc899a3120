"""Auditors' tools: item timelines, the trail browser, exports, verification and checkpoints."""
