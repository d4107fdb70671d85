"""The prototype's pipeline (github.com/naghamo/deltaf1-hybrid-active-learning, the version with
`EntropyOnRandomSubsetSampler`), rewritten here as a round-by-round worker, on its own config.

What it does, as the prototype does it (its `run_full_pipeline`, `RetrainStrategy`,
`evaluate_model`, `compute_confusion_matrix`):
- every text padded to 128 tokens and tokenized inside the loop, fp32, batch 16 everywhere;
- retrain: the initial weights restored from an in-memory copy, a fresh Adam + StepLR (stepped
  per epoch) each round; training runs in eval mode (its loop never calls `model.train()`,
  and the model comes from `from_pretrained`/evaluation in eval mode) with no gradient clipping;
- validation (10% of train) after every round; entropy (softmax, then log) on a random subset
  of the unlabeled pool after every round, the last included (its loop queries before it
  checks the round count; that batch is never used); after the last round, the full test split
  twice (the final metrics, then the confusion matrix); `save_experiment` writes the weights.

Same splits, initial draw, candidate draws, shuffles and tie-breaks as our engine (its seeds),
so the two runs label the same rows where their models agree and their F1 pair row by row.

Options in the spec, for the F1 comparison over seeds (f1_parity.py); the defaults are the
prototype as it runs: `seed` (default common.SEED); `train_dropout` (default False: train in
eval mode; True: `model.train()` during training, dropout masks seeded as the engine seeds
them); `max_grad_norm` (default None: no clipping); `f1_only` (default False; True skips what
cannot change F1: the unused last query, the confusion matrix's second test pass, the saved
weights). Each round also reports its mean training loss and the training labels per class.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import torch

from benchmarks.common import MAX_LENGTH, MODEL, NAIVE_BATCH, SEED, macro_f1
from hybridal.data.datasets import load_named_or_path
from hybridal.data.splits import make_run_splits
from hybridal.model.flops import FlopsModel
from hybridal.model.pretrained import load_model, load_model_config, resolve_model_path
from hybridal.samplers.base import top_n
from hybridal.samplers.uncertainty import entropy_from_log_probs
from hybridal.seeds import INITIAL, QUERY, SHUFFLE, TORCH, derive_seed


def encode(tokenizer, texts: list[str]) -> dict:
    return tokenizer(texts, truncation=True, max_length=MAX_LENGTH, padding="max_length", return_tensors="pt")


def naive_log_probs(model, tokenizer, texts: list[str], device: torch.device) -> np.ndarray:
    """The prototype's inference loop: batches of 16 in order, each tokenized to 128, fp32."""
    model.eval()
    out = []
    with torch.no_grad():
        for i in range(0, len(texts), NAIVE_BATCH):
            enc = {k: v.to(device) for k, v in encode(tokenizer, texts[i : i + NAIVE_BATCH]).items()}
            logits = model(**enc).logits
            out.append(torch.log_softmax(logits.float(), dim=-1).cpu().numpy())
    return np.concatenate(out) if out else np.empty((0, model.config.num_labels), dtype=np.float32)


class PrototypeWorker:
    """One prototype round per `round(r)` call; `prepare()` loads what its constructor loads."""

    def __init__(self, spec: dict, device: str):
        self.spec, self.device = spec, torch.device(device if device != "auto" else "cpu")
        self.seed = int(spec.get("seed", SEED))

    def prepare(self) -> dict:
        s = self.spec
        dataset = load_named_or_path("agnews", None, None, {}, self.seed, None)
        self.splits = make_run_splits(dataset, self.seed, None, s["max_train_size"], s["max_test_size"])
        from transformers import AutoTokenizer

        self.tokenizer = AutoTokenizer.from_pretrained(resolve_model_path(MODEL))
        self.flops = FlopsModel.from_config(load_model_config(MODEL, self.splits.num_labels), self.splits.num_labels)
        self.model = load_model(MODEL, self.splits.num_labels, self.seed).to(self.device).eval()
        self.initial_state = {k: v.clone() for k, v in self.model.state_dict().items()}
        self.labeled = np.empty(0, dtype=np.int64)
        return {"precision": "fp32"}

    def _infer_flops(self, n: int) -> int:
        return sum(self.flops.forward(min(NAIVE_BATCH, n - i), MAX_LENGTH) for i in range(0, n, NAIVE_BATCH))

    def _query(self, r: int) -> tuple[np.ndarray, int]:
        """Entropy on a random subset of the unlabeled pool, drawn as the engine draws it."""
        pool, s = self.splits.pool, self.spec
        unlabeled = np.setdiff1d(np.arange(len(pool)), self.labeled)
        if len(unlabeled) == 0:  # the prototype's sampler returns nothing then
            return unlabeled, 0
        rng = np.random.default_rng(derive_seed(self.seed, r, QUERY))
        candidates = unlabeled
        if s["candidate_pool_size"] < len(unlabeled):
            candidates = np.sort(rng.choice(unlabeled, size=s["candidate_pool_size"], replace=False))
        log_probs = naive_log_probs(self.model, self.tokenizer, [pool.texts[i] for i in candidates], self.device)
        picks = top_n(entropy_from_log_probs(log_probs), min(s["acquisition_batch_size"], len(candidates)), rng)
        return candidates[picks], self._infer_flops(len(candidates))

    def _train(self, r: int) -> int:
        s, pool = self.spec, self.splits.pool
        self.model.load_state_dict(self.initial_state)
        opt = torch.optim.Adam(self.model.parameters(), **s["optimizer_kwargs"])
        scheduler = torch.optim.lr_scheduler.StepLR(opt, **s["scheduler_kwargs"])
        loss_fn = torch.nn.CrossEntropyLoss()
        gen = torch.Generator().manual_seed(derive_seed(self.seed, r, SHUFFLE))
        y = torch.from_numpy(pool.labels[self.labeled])
        train_flops, losses, clip = 0, [], s.get("max_grad_norm")
        if s.get("train_dropout"):  # an ablation: the prototype's loop never calls model.train()
            torch.manual_seed(derive_seed(self.seed, r, TORCH))
            self.model.train()
        for _ in range(s["epochs"]):
            order = torch.randperm(len(self.labeled), generator=gen)
            for i in range(0, len(order), NAIVE_BATCH):
                b = order[i : i + NAIVE_BATCH]
                enc = {
                    k: v.to(self.device)
                    for k, v in encode(self.tokenizer, [pool.texts[self.labeled[j]] for j in b]).items()
                }
                opt.zero_grad()
                loss = loss_fn(self.model(**enc).logits, y[b].to(self.device))
                loss.backward()
                if clip is not None:
                    torch.nn.utils.clip_grad_norm_(self.model.parameters(), clip)
                opt.step()
                losses.append(float(loss.detach()))
                train_flops += self.flops.train_step(len(b), MAX_LENGTH)
            scheduler.step()
        self.model.eval()
        self.train_loss = float(np.mean(losses)) if losses else float("nan")
        return train_flops

    def round(self, r: int) -> dict:
        s, pool = self.spec, self.splits.pool
        infer_flops = 0
        t0 = time.perf_counter()
        if r == 0:
            rng = np.random.default_rng(derive_seed(self.seed, 0, INITIAL))
            self.labeled = np.sort(rng.choice(len(pool), size=s["initial_pool_size"], replace=False))
        else:
            picked, f = self._query(r)
            infer_flops += f
            self.labeled = np.sort(np.concatenate([self.labeled, picked]))  # the engine trains in pool order
        t1 = time.perf_counter()
        train_flops = self._train(r)
        t2 = time.perf_counter()
        val = self.splits.validation
        val_pred = naive_log_probs(self.model, self.tokenizer, val.texts, self.device).argmax(1)
        infer_flops += self._infer_flops(len(val))
        out = {
            "val_f1": macro_f1(val.labels, val_pred, self.splits.num_labels),
            "test_f1": None,
            "n_labeled": len(self.labeled),
            "train_flops": train_flops,
            "train_loss": self.train_loss,
            "label_counts": np.bincount(pool.labels[self.labeled], minlength=self.splits.num_labels).tolist(),
        }
        t3 = time.perf_counter()
        wasted_query = 0.0
        if r + 1 >= s["total_rounds"]:
            f1_only = s.get("f1_only", False)
            if not f1_only:
                infer_flops += self._query(r + 1)[1]  # the prototype's query after its last round; never used
            wasted_query = time.perf_counter() - t3
            out.update(self._final_test(second_pass=not f1_only))
            infer_flops += (1 if f1_only else 2) * self._infer_flops(len(self.splits.test))
            if not f1_only:
                torch.save(self.model.state_dict(), Path(s["save_dir"]) / "prototype_model.pt")
        out["infer_flops"] = infer_flops
        out["parts"] = {
            "query": t1 - t0 + wasted_query,
            "train": t2 - t1,
            "eval": time.perf_counter() - t2 - wasted_query,
        }
        return out

    def _final_test(self, second_pass: bool = True) -> dict:
        """The final metrics, then the confusion matrix: two passes over the full test split."""
        test = self.splits.test
        pred = naive_log_probs(self.model, self.tokenizer, test.texts, self.device).argmax(1)
        if second_pass:
            naive_log_probs(self.model, self.tokenizer, test.texts, self.device)  # compute_confusion_matrix's pass
        return {"test_f1": macro_f1(test.labels, pred, self.splits.num_labels), "test_predictions": pred.tolist()}
