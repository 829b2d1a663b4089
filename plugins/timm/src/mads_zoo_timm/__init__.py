"""timm image models as mads-zoo "2d" architectures (``timm-resnet``, ``timm-mobilenet``, ...)."""
