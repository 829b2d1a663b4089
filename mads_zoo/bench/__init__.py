"""The benchmark harness: every (architecture x sampler) combo under one shared budget."""
