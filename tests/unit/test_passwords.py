import pytest

from hub.accounts.passwords import Hasher, PasswordPolicy, shannon_entropy
from hub.errors import ValidationError

policy = PasswordPolicy(min_length=10, min_entropy_bits=2.5)


def test_shannon_entropy_is_bits_per_character():
    assert shannon_entropy("") == 0
    assert shannon_entropy("aaaa") == 0
    assert shannon_entropy("abab") == pytest.approx(1.0)
    assert shannon_entropy("abcd") == pytest.approx(2.0)


@pytest.mark.parametrize(("password", "reason"), [
    ("short1!", "at least 10"),
    ("password123", "commonly used"),
    ("qwertyuiop", "commonly used"),
    ("aaaaaaaaaaab", "too repetitive"),
    ("abababababab12", "too repetitive"),
    ("Alice2026Alice2026", "too easy to guess"),
])
def test_weak_passwords_are_refused_with_the_reason(password, reason):
    with pytest.raises(ValidationError, match=reason):
        policy.check(password, user_inputs=("alice@example.com", "Alice"))


def test_a_passphrase_of_unrelated_words_is_accepted():
    policy.check("velvet-harbor-quartz-71")


def test_hashes_are_salted_argon2id_and_verify():
    hasher = Hasher(time_cost=1, memory_kib=1024)
    first, second = hasher.hash("velvet-harbor-quartz-71"), hasher.hash("velvet-harbor-quartz-71")
    assert first.startswith("$argon2id$") and first != second
    assert hasher.verify(first, "velvet-harbor-quartz-71")
    assert not hasher.verify(first, "velvet-harbor-quartz-72")
    assert not hasher.verify(None, "anything")
    assert not hasher.verify("not-a-hash", "anything")
