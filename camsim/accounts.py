"""What the simulated clouds (ringsim, furbosim) share about serving several accounts (`--accounts N`)."""

from __future__ import annotations

import dataclasses
from typing import Any, ClassVar, Protocol


class AccountConfig(Protocol):
    """A simulated cloud's `Config` dataclass, as far as accounts go."""

    __dataclass_fields__: ClassVar[dict[str, Any]]
    email: str
    password: str
    accounts: int


def numbered[C: AccountConfig](config: C, number: int) -> C:
    """Account `number`'s own credentials: the first keeps `config`'s, the others get numbered ones."""
    if number == 1:
        return dataclasses.replace(config, accounts=1)
    name, _, domain = config.email.partition("@")
    return dataclasses.replace(
        config, email=f"{name}+{number}@{domain}", password=f"{config.password}{number}", accounts=1
    )


class AccountList[A]:
    """Every account of one simulated cloud, numbered from 1."""

    def __init__(self, accounts: list[A]) -> None:
        self.all = accounts

    @property
    def first(self) -> A:
        """Where a request that names no account goes (and so every single-account client)."""
        return self.all[0]

    def numbered(self, number: int) -> A:
        if not 1 <= number <= len(self.all):
            raise ValueError(f"no account {number} (there are {len(self.all)})")
        return self.all[number - 1]


def account_numbers(config: Any) -> range:
    """1 … N for `--accounts N` (at least one)."""
    return range(1, max(config.accounts, 1) + 1)
