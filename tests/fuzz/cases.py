"""Which runs a seed gets: always the main account; every fifth seed a sub-account, and
every fifth (offset) two sub-accounts in one submission, half of those on a form that lets
each draft choose its account (`account-selectable`). Fixed by the seed number, so a
reported seed and case are rerun exactly."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Case:
    name: str
    accounts: list[str] = field(default_factory=list)  # sub-accounts; none: the main account
    scenarios: list[str] = field(default_factory=list)  # replica scenarios besides logged-in

    @property
    def expected(self) -> list[str]:
        """The accounts a key must be made for, one key each."""
        return self.accounts or ["main"]


MAIN = Case("main")
SUB = Case("sub", ["icg-mm-sub2"])
MULTI = Case("multi", ["icg-mm-sub1", "icg-mm-sub2"])
MULTI_SELECTABLE = Case("multi-selectable", ["icg-mm-sub1", "icg-mm-sub2"], ["account-selectable"])
BY_NAME = {c.name: c for c in (MAIN, SUB, MULTI, MULTI_SELECTABLE)}


def cases_for(seed: int) -> list[Case]:
    if seed % 5 == 1:
        return [MAIN, SUB]
    if seed % 5 == 3:
        return [MAIN, MULTI_SELECTABLE if seed % 10 == 3 else MULTI]
    return [MAIN]
