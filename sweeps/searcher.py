"""The Ray Tune Searcher of a sweep: it hands Tune each job of a `SharePlan` as soon as the job can
start, so forks run while their trunk goes on (a multi-GPU box stays busy).

Tune asks `suggest` whenever it has room; the answer is the next ready job's trial config, None
while every remaining job waits on a trunk or fork, or FINISHED once all have started. Trunk
results (`on_trial_result`) reveal their monitor F1 round by round; `on_trial_complete` releases
what waited on a finished run, and blocks what waited on a failed one. Its state is saved as
JSON; after a restore it is reconciled with what the runs wrote to storage and with the trials
Tune restored: no finished run runs again, and every failed, blocked or lost job runs again
(docs/design.md §11).
"""

from __future__ import annotations

import json
from typing import Iterable, Optional

from ray.tune.search import Searcher

from hybridal.strategies import StopObservation
from sweeps.sharing import TRUNK, Job, SharePlan


class ShareSearcher(Searcher):
    def __init__(
        self, plan: SharePlan, columns: dict[str, dict], order: list[str], prefix_uri: str, keep_prefixes: bool = False
    ):
        super().__init__()
        self.plan = plan
        self.prefix_uri = prefix_uri  # the experiment folder (sweeps.prefix_store)
        self.keep_prefixes = keep_prefixes  # --keep-prefixes: never release a group's saved states
        self.restored = False
        self.columns = columns  # job name -> its canonical columns (what Tune's params show)
        self.order = order  # job names; a job's trial_index is its position
        self.by_trial: dict[str, str] = {}
        self.queue: list[str] = []

    # ---- Tune asks -------------------------------------------------------------------------
    def suggest(self, trial_id: str) -> Optional[dict]:
        if self.restored:
            self.restored = False
            self.reconcile_with_storage()
        if not self.queue:
            self.queue.extend(job.name for job in self.plan.take_ready())
        if not self.queue:
            return Searcher.FINISHED if self.plan.finished else None
        job = self.plan.jobs[self.queue.pop(0)]
        self.by_trial[trial_id] = job.name
        return self.trial_config(job)

    def trial_config(self, job: Job) -> dict:
        group = self.plan.groups.get(job.name)
        return {
            "trial_index": self.order.index(job.name),
            "trial_name": job.name,
            **self.columns[job.name],
            "role": job.role,
            "reported": job.reported,
            "trunk": job.trunk,
            "fork_round": job.fork_round,
            "source": job.source,
            "members": list(group.members) if group else [],
        }

    # ---- runs tell ---------------------------------------------------------------------------
    def on_trial_result(self, trial_id: str, result: dict) -> None:
        name = self.by_trial.get(trial_id)
        if name is None or self.plan.jobs[name].role != TRUNK or "round" not in result:
            return
        self.plan.on_trunk_round(
            name,
            int(result["round"]),
            result.get("monitor_f1"),
            bool(result.get("prefix_saved")),
            result.get("monitor_degenerate"),
            StopObservation.of(result),
        )

    def on_trial_complete(self, trial_id: str, result: Optional[dict] = None, error: bool = False) -> None:
        name = self.by_trial.get(trial_id)
        if name is None:
            return
        result = result or {}
        ok = not error and bool(result.get("done")) and not result.get("error") and not result.get("blocked")
        self.plan.on_done(
            name,
            ok,
            int(result["round"]) + 1 if ok and "round" in result else None,
            failure="input" if result.get("error") and not error else "crash",
        )
        self.release_finished_group(name)

    def release_finished_group(self, name: str) -> None:
        """Delete a group's saved states and run copies once its trunk and every member finished:
        nothing reads them any more, and a large grid would otherwise hold every group's states at
        once. A group with a failed or blocked job keeps them for --resume."""
        job = self.plan.jobs[name]
        trunk = name if name in self.plan.groups else job.trunk
        if self.keep_prefixes or trunk not in self.plan.groups:
            return
        names = [trunk, *self.plan.groups[trunk].members]
        if all(self.plan.jobs[n].state == "done" for n in names):
            from sweeps.prefix_store import PrefixStore

            PrefixStore(self.prefix_uri).remove_entries(names)

    # ---- resume --------------------------------------------------------------------------------
    def save(self, checkpoint_path: str) -> None:
        state = {"plan": self.plan.state_dict(), "by_trial": self.by_trial, "queue": self.queue}
        with open(checkpoint_path, "w", encoding="utf-8") as handle:
            json.dump(state, handle)

    def restore(self, checkpoint_path: str) -> None:
        with open(checkpoint_path, encoding="utf-8") as handle:
            state = json.load(handle)
        self.plan.load_state_dict(state["plan"])
        self.by_trial, self.queue = dict(state["by_trial"]), list(state["queue"])
        self.restored = True

    def reconcile_with_storage(self) -> None:
        """Read back what the runs wrote since the state was saved (each trunk's rounds and saved
        prefixes, which runs finished or ended on an input error: their synced summary.json) and
        which trials Tune restored (its newest experiment state)."""
        from sweeps.prefix_store import PrefixStore

        store = PrefixStore(self.prefix_uri)
        series, prefixes, finished, errors = {}, {}, {}, set()
        for trunk in self.plan.groups:
            text = store.trial_file(trunk, "rounds.jsonl") or ""
            series[trunk] = [
                (rec.get("monitor_f1"), rec.get("monitor_degenerate"), StopObservation.of(rec))
                for rec in (json.loads(line) for line in text.splitlines() if line.strip())
            ]
            prefixes[trunk] = store.saved_prefixes(trunk)
        for name in self.plan.jobs:
            text = store.trial_file(name, "summary.json")
            summary = json.loads(text) if text else {}
            if summary.get("status") == "finished":
                finished[name] = int(summary.get("rounds") or 0)
            elif summary.get("status") == "error":
                errors.add(name)
        retried = self.reconcile(finished, series, prefixes, errors, store.tune_trials())
        for name in retried:
            store.retire_trial(name)

    def reconcile(
        self,
        finished: dict[str, int],
        trunk_series: dict[str, list],
        prefixes: dict[str, list[int]],
        errors: Iterable[str] = (),
        tune_trials: Optional[dict[str, str]] = None,
    ) -> list[str]:
        """Bring a restored plan up to what storage holds: runs that finished (name -> rounds)
        after the state was saved, runs whose summary says they ended on an input error, each
        trunk's (monitor F1, degenerate, stop-set signals) so far, its saved prefixes, and Tune's restored trials
        (trial id -> status; None: unknown). Then every job that will not run again by itself runs
        again: a failed or lost one is retried, and what it blocked waits for it. Returns the jobs
        whose ended trial a new one replaces."""
        for trunk, series in trunk_series.items():
            if trunk in self.plan.groups:
                saved = set(prefixes.get(trunk, ()))
                for r, (f1, degenerate, stop) in enumerate(series):
                    self.plan.on_trunk_round(trunk, r, f1, r in saved, degenerate, stop)
        for name in self.queue:  # taken from the plan but never suggested: no trial has them
            self.plan.jobs[name].state = "ready"
        self.queue = []
        errors = set(errors)
        last_trial = {name: trial_id for trial_id, name in self.by_trial.items()}  # a job's newest trial
        replaced = []
        for name, job in self.plan.jobs.items():
            if job.state not in ("started", "failed"):
                continue
            status = (tune_trials or {}).get(last_trial.get(name, ""))
            if name in finished:
                self.plan.on_done(name, True, finished[name])
            elif tune_trials is not None and status is None:
                self.plan.retry(name, by_tune=False)  # suggested, but Tune never registered its trial
            elif status == "TERMINATED" or (tune_trials is None and name in errors):
                self.plan.retry(name, by_tune=False)  # ended without finishing (its input): a new trial
                replaced.append(name)
            elif job.state == "failed":
                self.plan.retry(name, by_tune=True)  # Tune resumes its errored trial
        return replaced
