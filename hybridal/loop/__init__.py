"""The round loop: one AL run (`active_learning`) composed of its schedule (`schedule`), phases
(`phases`), label pool (`pool`), what it is charged (`accounting`), checkpoints, outputs
(`run_writer`, `summary`, `trial_columns`) and runs forked from a shared prefix (`prefix_forks`)."""
