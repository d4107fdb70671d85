"""Cost before launch: the FLOPs of every round of a config or grid (`estimate`), from what a run is
costed on (`inputs`: the splits' token lengths, the FLOPs model), the FLOPs of a round plan's passes
(`plan_flops`) and per-batch counts (`batch_flops`), with the same FLOPs model and schedule the runs use."""
