"""The synthetic experiment builders (tests/support/analysis_experiments.py) follow the record schema."""

from __future__ import annotations

from hybridal.records import SINGLE_LABEL_FIELDS
from tests.support.analysis_experiments import config, make_experiment, simulate


def test_fixture_records_follow_the_schema(tmp_path):
    recs = simulate(config("agnews", "deltaf1", 1, epsilon=0.02, k=1), 8)
    assert all(tuple(r) == SINGLE_LABEL_FIELDS for r in recs)
    assert [r["n_labeled"] for r in recs[:3]] == [200, 232, 264]
    exp = make_experiment(tmp_path / "exp", datasets=("agnews",), seeds=(1,), epsilons=(0.01,), ks=(1,))
    assert len(list(exp.glob("trainable_*"))) == 4
