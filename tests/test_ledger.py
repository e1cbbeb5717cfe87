"""The ledger conserves money and the book enforces life cycles."""

import pytest

from sim.ledger import Book, Contract, IllegalTransition, Ledger


def test_pay_conserves_and_never_overdraws_agents():
    led = Ledger(["a", "b"])
    assert led.pay("investors", "a", 10.0, "initial") == 10.0
    assert led.pay("a", "b", 15.0, "x") == 10.0          # a pays only what it has
    assert led.balance("a") == 0.0 and led.balance("b") == 10.0
    assert led.total() == pytest.approx(0.0)
    assert led.replay() == led.balances
    assert led.external_net_inflow() == pytest.approx(led.agents_total())


def test_contract_transitions():
    book = Book()
    k = book.add("contract", Contract("C1", "signed"))
    book.move(k, "active")
    book.move(k, "completed")
    with pytest.raises(IllegalTransition):
        book.move(k, "active")
    k2 = book.add("contract", Contract("C2", "signed"))
    with pytest.raises(IllegalTransition):
        book.move(k2, "completed")
