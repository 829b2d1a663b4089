"""The 2DCNN architecture for mads-zoo (registered as ``2dcnn``)."""
