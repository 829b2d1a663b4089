"""The 1DCNNGRU architecture for mads-zoo (registered as ``1dcnngru``)."""
