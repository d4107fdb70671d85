"""The round loop: one AL run (`active_learning`) composed of its schedule (`schedule`), phases
(`phases`), label pool (`pool`), each round's record (`round_record`) and what it is charged
(`accounting`), checkpoints (`checkpoints`), outputs (`run_writer`, `summary`, `trial_columns`) and
runs forked from a shared prefix (`prefix_forks`)."""
