"""Explanations built as JSON text over arrays read back as `explanations_json` gives them."""

from __future__ import annotations

import json

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from mentorat.matching.explanation_text import explanation_texts
from mentorat.matching.scoring import Weights, explanation_json, explanations_json, score_pairs
from tests.matching.test_scoring import random_instance

# Weights as the API keeps them: 6 decimals, summing to 1.
weights_strategy = (
    st.tuples(st.integers(0, 1_000_000), st.integers(0, 1_000_000))
    .filter(lambda drawn: sum(drawn) <= 1_000_000)
    .map(lambda drawn: Weights(drawn[0] / 1e6, drawn[1] / 1e6, 1 - sum(drawn) / 1e6))
)


class TestExplanationTexts:
    @settings(max_examples=60, deadline=None)
    @given(
        seed=st.integers(0, 2**32 - 1),
        n=st.integers(1, 10),
        m=st.integers(1, 14),
        weights=weights_strategy,
        needed_slots=st.integers(1, 12),
        order_seed=st.integers(0, 2**32 - 1),
    )
    def test_equal_to_the_explanations_as_dicts(
        self, seed: int, n: int, m: int, weights: Weights, needed_slots: int, order_seed: int
    ) -> None:
        children, mentors, exclusions = random_instance(seed, n, m)
        pairs = score_pairs(children, mentors, weights, exclusions, needed_slots)
        # Any subset of the pairs, in any order, repeats included.
        rng = np.random.default_rng(order_seed)
        positions = rng.integers(0, max(len(pairs), 1), rng.integers(0, 2 * len(pairs) + 1))
        texts = explanation_texts(pairs, positions)
        assert [json.loads(text) for text in texts] == explanations_json(pairs, positions)
        for k, text in zip(positions.tolist(), texts, strict=True):
            assert json.loads(text) == explanation_json(pairs, k)

    def test_no_pairs(self) -> None:
        children, mentors, exclusions = random_instance(5, 4, 4)
        pairs = score_pairs(children, mentors, Weights(), exclusions)
        assert explanation_texts(pairs, np.empty(0, dtype=np.intp)) == []
