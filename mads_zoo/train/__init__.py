"""Training: the trainer, whole-split metrics, checkpoints and the runtime settings."""
