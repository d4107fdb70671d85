"""The model and how it trains: pretrained weights and tokenizer (`pretrained`), devices and precision
(`hardware`), training and inference passes (`training`) with their batches (`batching`) and what an
evaluation reports (`metrics`), their FLOPs (`flops`, `first_token`), and optimizers, schedulers and
losses by name (`optimization`)."""
