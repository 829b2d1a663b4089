"""The seed's dense head: flatten, two linear layers with a ReLU between them."""

from __future__ import annotations

from collections import OrderedDict

from torch import nn


class ClassifierHead(nn.Sequential):
    """``Flatten -> Linear(in_features, hidden) -> ReLU [-> Dropout] -> Linear(hidden, classes)``.

    Args:
        in_features: Features per example once flattened.
        hidden: Width of the hidden layer.
        num_classes: Number of logits returned.
        dropout: Dropout after the ReLU; 0 leaves the Dropout layer out.
    """

    def __init__(
        self, in_features: int, hidden: int, num_classes: int, *, dropout: float = 0.0
    ) -> None:
        layers: OrderedDict[str, nn.Module] = OrderedDict(
            flatten=nn.Flatten(), hidden=nn.Linear(in_features, hidden), act=nn.ReLU(inplace=True)
        )
        if dropout > 0:
            layers["drop"] = nn.Dropout(dropout)
        layers["out"] = nn.Linear(hidden, num_classes)
        super().__init__(layers)
