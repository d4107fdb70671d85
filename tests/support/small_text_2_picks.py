"""small-text 2.0's LabelCardinalityInconsistency and AdaptiveActiveLearning picks on the multi-label
sampler tests' fixed matrices, recorded once, since the pinned test dependency (small-text 1.4.1, the
last release; 2.0 is a pre-release) lacks both strategies.

Regenerate (writes tests/support/small_text_2_picks.json) with the pre-release on the path:

    pip install --no-deps --target /tmp/st20 small-text==2.0.0.dev3
    PYTHONPATH=/tmp/st20:. python -m tests.support.small_text_2_picks

The test compares against the live library instead wherever small-text has both strategies.
"""

from __future__ import annotations

import json
from pathlib import Path

FIXTURE = Path(__file__).with_name("small_text_2_picks.json")
NS = (1, 4)


def record() -> dict:
    import small_text
    import small_text.query_strategies as st_qs

    from tests.unit.test_multilabel_samplers import CASES, _smalltext_picks

    picks: dict = {"small_text": small_text.__version__, "lci": {}, "aal": {}}
    for case, (proba, y_labeled) in enumerate(CASES):
        for n in NS:
            key = f"{case}/{n}"
            picks["lci"][key] = _smalltext_picks(st_qs.LabelCardinalityInconsistency(), proba, y_labeled, n).tolist()
            picks["aal"][key] = _smalltext_picks(st_qs.AdaptiveActiveLearning(), proba, y_labeled, n).tolist()
    return picks


def recorded() -> dict:
    return json.loads(FIXTURE.read_text())


if __name__ == "__main__":
    FIXTURE.write_text(json.dumps(record(), indent=1, sort_keys=True) + "\n")
    print(f"wrote {FIXTURE}")
