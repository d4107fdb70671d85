"""Shared-prefix planning: roles, readiness and sharing decided from a trunk's F1 series."""

from __future__ import annotations

import pytest

from sweeps.share_simulation import simulate
from sweeps.sharing import COPY, FORK, STANDALONE, TRUNK, SharePlan, needs_prefix
from tests.support.sharing_grids import F1S, grid, trial


def test_roles_follow_the_rule_on_the_trunk_series():
    plan = simulate(SharePlan(grid()), {"retrain": F1S})
    role = {n: (j.role, j.fork_round, j.source) for n, j in plan.jobs.items()}
    assert role["retrain"] == (TRUNK, None, None)
    assert role["finetune"] == (FORK, 1, None) and role["new_only"] == (FORK, 1, None)
    assert role["d-e0.05-k1"] == (FORK, 3, None)
    assert role["d-e0.05-k1-new"] == (FORK, 3, None)  # same round, other mode: its own fork
    assert role["d-e0.05-k2"] == (FORK, 4, None)
    assert role["d-e0.02-k1"] == (COPY, None, "d-e0.05-k2")  # same round, mode and knobs: shares that fork
    assert role["d-e0.001-k1"] == (COPY, None, "retrain")  # never switches: the trunk's rounds
    assert all(j.state == "done" for j in plan.jobs.values())


def test_forks_start_once_the_trunk_saved_their_prefix_and_copies_once_their_source_finished():
    plan = SharePlan(grid())
    assert [j.name for j in plan.take_ready()] == ["retrain"]
    members = plan.members_of("retrain")
    started = []
    for r, f1 in enumerate(F1S[:4]):
        plan.on_trunk_round("retrain", r, f1, prefix_saved=needs_prefix(members, F1S[: r + 1]))
        started.append(sorted(j.name for j in plan.take_ready()))
    assert started == [["finetune", "new_only"], [], ["d-e0.05-k1", "d-e0.05-k1-new"], ["d-e0.05-k2"]]
    assert plan.jobs["d-e0.02-k1"].state == "waiting"  # its fork is still running
    plan.on_done("d-e0.05-k2", True)
    assert [j.name for j in plan.take_ready()] == ["d-e0.02-k1"]
    assert plan.jobs["d-e0.001-k1"].role is None  # may still switch
    plan.on_done("retrain", True, rounds=4)
    assert [j.name for j in plan.take_ready()] == ["d-e0.001-k1"]


def test_a_switch_decided_after_the_last_round_is_a_copy_of_the_trunk():
    plan = simulate(SharePlan(grid()), {"retrain": F1S[:3]})  # ε 0.05 k1 decides 3 = after the last round
    assert plan.jobs["d-e0.05-k1"].role == COPY and plan.jobs["d-e0.05-k1"].source == "retrain"


def test_a_group_without_retrain_runs_a_hidden_trunk_and_groups_never_mix_seeds():
    trials = [t for t in grid(1) + grid(2) if t.name != "retrain" or t.config.seed == 2]
    plan = SharePlan(trials)
    hidden = [j for j in plan.jobs.values() if not j.reported]
    assert len(hidden) == 1 and hidden[0].role == TRUNK and hidden[0].config.strategy_class == "retrain"
    assert hidden[0].config.seed == 1
    assert {j.trunk for j in plan.jobs.values() if j.config.seed == 2 and j.role != TRUNK} == {"retrain"}


def test_a_kept_optimizer_makes_the_trunk_keep_its_optimizer():
    trials = [trial("retrain"), trial("finetune", "finetune", keep_optimizer=True)]
    plan = SharePlan(trials)
    trunk = next(j for j in plan.jobs.values() if j.role == TRUNK)
    assert not trunk.reported and trunk.config.keep_optimizer
    assert plan.jobs["retrain"].trunk == trunk.name


def test_no_share_runs_every_configuration_alone():
    plan = SharePlan(grid(), share=False)
    assert {j.role for j in plan.jobs.values()} == {STANDALONE} and len(plan.take_ready()) == len(grid())


def test_a_failed_trunk_blocks_what_still_waits_on_it():
    plan = SharePlan(grid())
    plan.take_ready()
    plan.on_trunk_round("retrain", 0, 0.5, prefix_saved=True)
    plan.take_ready()
    plan.on_done("retrain", False)
    blocked = sorted(j.name for j in plan.jobs.values() if j.state == "blocked")
    assert blocked == sorted(n for n in plan.jobs if n.startswith("d-"))
    assert plan.blocked() == {n: "retrain" for n in blocked}
    assert plan.jobs["finetune"].role == FORK  # already running from its prefix
    assert plan.finished and plan.take_ready() == []  # a blocked job never starts as a trial


def test_a_retried_trunk_releases_what_it_blocked_and_they_run_as_the_rule_says():
    plan = SharePlan(grid())
    plan.take_ready()
    for r, f1 in enumerate(F1S[:3]):
        plan.on_trunk_round("retrain", r, f1, prefix_saved=needs_prefix(plan.members_of("retrain"), F1S[: r + 1]))
    plan.take_ready()
    plan.on_done("retrain", False)
    assert plan.jobs["d-e0.05-k2"].state == "blocked" and plan.jobs["d-e0.05-k1"].role == FORK
    plan.retry("retrain", by_tune=True)  # --resume: Tune resumes the errored trunk
    assert plan.blocked() == {} and not plan.finished
    for r, f1 in enumerate(F1S):
        plan.on_trunk_round("retrain", r, f1, prefix_saved=needs_prefix(plan.members_of("retrain"), F1S[: r + 1]))
    plan.on_done("retrain", True, rounds=6)
    ready = {j.name for j in plan.take_ready()}
    assert {"d-e0.05-k2", "d-e0.001-k1"} <= ready and plan.jobs["d-e0.05-k2"].role == FORK


def test_a_restored_searcher_reruns_input_errors_and_lost_jobs_and_leaves_tunes_own_retries():
    from sweeps.searcher import ShareSearcher

    plan = SharePlan(grid(), share=False)
    names = list(plan.jobs)
    searcher = ShareSearcher(plan, {n: {} for n in names}, names, "unused")
    for i, name in enumerate(names[:4]):
        assert searcher.suggest(f"t{i}")["trial_name"] == name
    searcher.on_trial_complete("t0", {"done": True, "error": "DataError: missing.csv"})
    assert plan.jobs[names[0]].state == "failed" and plan.jobs[names[0]].failure == "input"
    # Tune restored t0 (ended), t1 (errored: it retries it) and t2 (running); t3 was never registered.
    searcher.reconcile(
        {names[2]: 6}, {}, {}, errors={names[0]}, tune_trials={"t0": "TERMINATED", "t1": "ERROR", "t2": "RUNNING"}
    )
    assert [plan.jobs[n].state for n in names[:4]] == ["ready", "started", "done", "ready"]
    assert searcher.suggest("t9")["trial_name"] in {names[0], names[3]}


def test_plan_state_survives_a_round_trip():
    plan = SharePlan(grid())
    plan.take_ready()
    plan.on_trunk_round("retrain", 0, 0.5, prefix_saved=True)
    restored = SharePlan(grid())
    restored.load_state_dict(plan.state_dict())
    assert restored.state_dict() == plan.state_dict()
    assert restored.jobs["finetune"].state == "ready"


# ---- cost: spent against every configuration alone ----------------------------------------


def stub_round_flops(cfg, s):
    """Retrain rounds cost 10, finetune rounds 1, new_only rounds 2; six rounds."""
    from hybridal.loop.schedule import round_plan

    return [{"retrain": 10, "finetune": 1, "new_only": 2}[step.mode] for step in round_plan(cfg, 1000, 100, s)]


def test_spent_counts_the_trunk_once_and_each_fork_from_its_switch_round():
    from sweeps.share_cost import cost_of, switches_in_plan

    plan = simulate(SharePlan(grid()), {"retrain": F1S})
    cost = cost_of(plan, switches_in_plan(plan), stub_round_flops)
    # Alone: retrain 60, finetune 10+5, new_only 10+10, ε0.05k1 30+3, ε0.05k2 40+2, ε0.02k1 40+2, ε0.001 60, new 30+6.
    assert cost.naive == 60 + 15 + 20 + 33 + 42 + 42 + 60 + 36
    # Shared: the trunk 60, forks finetune@1 5, new_only@1 10, finetune@3 3, new_only@3 6, finetune@4 2.
    assert cost.spent == 60 + 5 + 10 + 3 + 6 + 2 and cost.forks == 5 and cost.trunks == 1


def test_dry_run_scenarios_bound_the_switch_rounds():
    from sweeps.share_cost import cost_of, scenario_switches

    plan = SharePlan(grid())
    together = scenario_switches(plan, lambda cfg: 6, distinct=False)
    apart = scenario_switches(plan, lambda cfg: 6, distinct=True)
    assert {together[n] for n in together} == {3}  # max over k of k+1
    assert sorted(v for n, v in apart.items() if not n.endswith("new")) == [2, 3, 4, 5]
    assert cost_of(plan, together, stub_round_flops).spent < cost_of(plan, apart, stub_round_flops).spent


def test_a_fork_whose_trunk_state_is_missing_fails_in_one_sentence_naming_it(tmp_path):
    from hybridal.errors import DataError
    from sweeps.prefix_store import PrefixStore
    from sweeps.trainable import _start_fork

    store = PrefixStore(str(tmp_path / "sweep"))
    config = {"trial_name": "agnews-deltaf1-e0.02-k1-s42", "trunk": "agnews-retrain-s42", "fork_round": 3}
    with pytest.raises(DataError) as info:
        _start_fork(None, config, store)
    message = str(info.value)
    assert ".prefixes/agnews-retrain-s42/after-round-2" in message and "agnews-deltaf1-e0.02-k1-s42" in message
    assert message.count(".") >= 1 and "\n" not in message


def test_prefix_store_round_trips_a_state_and_lists_what_a_trunk_saved(tmp_path):
    from sweeps.prefix_store import PrefixStore

    state = tmp_path / "state"
    state.mkdir()
    (state / "state.json").write_text('{"next_round": 3}')
    store = PrefixStore(str(tmp_path / "sweep"))
    store.put_prefix("trunk-a", 2, state)
    store.put_prefix("trunk-a", 0, state)
    assert store.saved_prefixes("trunk-a") == [0, 2] and store.saved_prefixes("trunk-b") == []
    back = tmp_path / "back"
    assert store.get_prefix("trunk-a", 2, back) and (back / "state.json").read_text() == '{"next_round": 3}'
    assert not store.get_prefix("trunk-a", 1, tmp_path / "none")
