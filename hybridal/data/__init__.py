"""Data: datasets loaded and checked (`datasets`), the run's seeded splits (`splits`), tokens cached per
machine (`tokenization`, `cache`). Imports nothing else of hybridal but `errors`."""
