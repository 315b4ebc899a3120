"""The JSON API for pipelines and tools (/api/v1), its reference page (/api) and personal API
tokens (/settings/tokens, `forum tokens`)."""
