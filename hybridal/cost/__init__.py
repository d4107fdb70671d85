"""Cost before launch: the FLOPs of every round of a config or grid (`estimate`) from per-batch
counts (`batch_flops`), with the same FLOPs model and schedule the runs use."""
