"""Password hashing (argon2id, salted, slow) and the password policy."""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass
from functools import cached_property

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from zxcvbn import zxcvbn
from zxcvbn.frequency_lists import FREQUENCY_LISTS

from hub.errors import ValidationError

MAX_LENGTH = 256  # argon2 would hash more, but nobody types it and it is a cheap DoS lever
COMMON_PASSWORDS_CHECKED = 30_000


def shannon_entropy(password: str) -> float:
    """H = -Σ pᵢ log₂ pᵢ over the password's characters, in bits per character."""
    if not password:
        return 0.0
    n = len(password)
    return -sum((c / n) * math.log2(c / n) for c in Counter(password).values())


@dataclass(frozen=True)
class PasswordPolicy:
    min_length: int = 10
    min_entropy_bits: float = 2.5

    @cached_property
    def _common(self) -> frozenset[str]:
        return frozenset(FREQUENCY_LISTS["passwords"][:COMMON_PASSWORDS_CHECKED])

    def check(self, password: str, *, user_inputs: tuple[str, ...] = ()) -> None:
        """Raise ValidationError naming the first rule the password breaks."""
        def refuse(message: str) -> None:
            raise ValidationError(message, fields={"password": message}, code="weak_password")

        if len(password) < self.min_length:
            refuse(f"password must be at least {self.min_length} characters long")
        if len(password) > MAX_LENGTH:
            refuse(f"password must be at most {MAX_LENGTH} characters long")
        if password.lower() in self._common:
            refuse("password is one of the most commonly used passwords")
        entropy = shannon_entropy(password)
        if entropy < self.min_entropy_bits:
            refuse(f"password is too repetitive ({entropy:.2f} bits per character, at least "
                   f"{self.min_entropy_bits} needed): use more different characters")
        result = zxcvbn(password[:100], user_inputs=[u for u in user_inputs if u])
        if result["score"] < 3:
            hint = result["feedback"].get("warning") or "it is too easy to guess"
            refuse(f"password is too easy to guess: {hint.rstrip('.')}. Add more unrelated words or characters")


class Hasher:
    """argon2id with a per-hash random salt; parameters are stored in each hash."""

    def __init__(self, time_cost: int = 3, memory_kib: int = 65536):
        self._ph = PasswordHasher(time_cost=time_cost, memory_cost=memory_kib, parallelism=1)
        # Verified against when the user does not exist, so timing does not reveal which emails exist.
        self._dummy = self._ph.hash("not-a-real-password")

    def hash(self, password: str) -> str:
        return self._ph.hash(password)

    def verify(self, password_hash: str | None, password: str) -> bool:
        try:
            return self._ph.verify(password_hash or self._dummy, password) and password_hash is not None
        except (VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, password_hash: str) -> bool:
        return self._ph.check_needs_rehash(password_hash)
