"""The bridge's distributions, built once per test process the way the release workflow builds them."""

from __future__ import annotations

import pytest

from tests.release.user_install import Distributions, build_distributions


@pytest.fixture(scope="session")
def distributions(tmp_path_factory: pytest.TempPathFactory) -> Distributions:
    return build_distributions(tmp_path_factory.mktemp("build"))
