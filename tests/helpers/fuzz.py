"""What the hypothesis tests share: their settings and the shape of the values they throw.

Every fuzz test runs its examples against one real HA and its simulators (starting them per example
would cost seconds each) and checks that each example leaves things as it found them; hence the
function-scoped-fixture health check is suppressed on purpose. Examples are derandomized so CI runs
the same ones every time.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

# Hypothesis 6.170 on Python 3.14 warns about its own thread-local generator at every start.
HYPOTHESIS_WARNINGS = pytest.mark.filterwarnings(
    "ignore:It looks like `register_random`:hypothesis.errors.HypothesisWarning"
)


def fuzz_settings(max_examples: int) -> settings:
    return settings(
        max_examples=max_examples,
        deadline=None,
        derandomize=True,  # the same examples on every run, so CI is reproducible
        database=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )


def text_and_values(
    nasty: Sequence[str], max_size: int = 30
) -> tuple[st.SearchStrategy[str], st.SearchStrategy[Any]]:
    """Text (a field's own nasty strings, or any short text) and any JSON-like value built of it."""
    text = st.one_of(st.sampled_from(list(nasty)), st.text(max_size=max_size))
    scalar = st.one_of(
        st.none(),
        st.booleans(),
        st.integers(min_value=-(2**64), max_value=2**64),
        st.floats(allow_nan=False, allow_infinity=False),
        text,
    )
    value = st.recursive(
        scalar,
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(text, inner, max_size=3),
        max_leaves=5,
    )
    return text, value
