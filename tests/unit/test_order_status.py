from itertools import pairwise

import pytest

from hub.errors import IllegalTransition
from hub.orders.status import TRANSITIONS, OrderStatus, allowed_moves, check_move

S = OrderStatus


def test_every_status_has_an_entry_in_the_state_machine():
    assert set(TRANSITIONS) == set(OrderStatus)


def test_the_happy_path_is_allowed():
    path = [S.PENDING, S.PAID, S.PARTIALLY_FULFILLED, S.FULFILLED, S.DELIVERED, S.REFUNDED]
    for current, target in pairwise(path):
        check_move(current, target)


@pytest.mark.parametrize(("current", "target"), [
    (S.PENDING, S.FULFILLED), (S.PENDING, S.DELIVERED), (S.DELIVERED, S.CANCELLED),
    (S.CANCELLED, S.PAID), (S.REFUNDED, S.PAID), (S.FULFILLED, S.PAID), (S.PAID, S.PENDING),
])
def test_illegal_moves_are_refused_with_a_message_naming_both_statuses(current, target):
    with pytest.raises(IllegalTransition) as info:
        check_move(current, target)
    assert str(current) in info.value.message and str(target) in info.value.message


def test_closed_orders_allow_no_move():
    assert allowed_moves(S.CANCELLED) == frozenset()
    assert allowed_moves(S.REFUNDED) == frozenset()
