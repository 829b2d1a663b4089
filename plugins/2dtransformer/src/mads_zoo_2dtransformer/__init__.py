"""The 2D Transformer architecture for mads-zoo (registered as ``2dtransformer``)."""
