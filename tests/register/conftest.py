"""The register's tests reuse the health tests' history builders (tests/health/conftest.py) and
the API tests' token client (tests/api/conftest.py)."""

from tests.api.conftest import api_as, make_token  # noqa: F401
from tests.health.conftest import _one_scrypt_per_password, cast, history  # noqa: F401
