"""The register's tests reuse the health tests' history builders (tests/health/conftest.py)."""

from tests.health.conftest import _one_scrypt_per_password, cast, history  # noqa: F401
