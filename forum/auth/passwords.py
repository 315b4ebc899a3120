"""The password policy: at least 12 characters and not a commonly used password. No composition
rules (NIST SP 800-63B): length and a deny-list do more than "one digit, one symbol".

The deny-list is ``data/common-passwords.txt``: the 19,640 common passwords that Django ships as
``django/contrib/auth/common-passwords.txt.gz`` (taken from Django 5.2.19; Royce Williams' list,
lower-cased), under Django's BSD licence, copied next to it as ``common-passwords.LICENSE``.
Most of its entries are shorter than 12 characters and are already refused by the length rule;
the list still catches long ones such as "qwerty123456" or "1q2w3e4r5t6y".
"""

from __future__ import annotations

import functools
from pathlib import Path

from forum.core.errors import ValidationError

MIN_LENGTH = 12
MAX_LENGTH = 1024
COMMON_PASSWORDS = Path(__file__).parent / "data" / "common-passwords.txt"


@functools.cache
def common_passwords() -> frozenset[str]:
    """The deny-list, lower-cased, read once per process."""
    with COMMON_PASSWORDS.open(encoding="utf-8") as handle:
        return frozenset(line.strip().lower() for line in handle if line.strip())


def check(password: str | None, field: str = "password") -> None:
    """Refuse a password that breaks the policy, with a message fit to show next to ``field``."""
    password = password or ""
    if len(password) < MIN_LENGTH:
        raise ValidationError(
            f"The password must have at least {MIN_LENGTH} characters (it has {len(password)}). "
            "A few unrelated words make a long password that is easy to remember.",
            field,
        )
    if len(password) > MAX_LENGTH:
        raise ValidationError(f"The password must have at most {MAX_LENGTH} characters.", field)
    if password.strip().lower() in common_passwords():
        raise ValidationError(
            "This password is on a list of commonly used passwords; choose another one.", field
        )
