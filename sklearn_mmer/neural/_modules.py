"""Plain torch modules; the scikit-learn faces live in the estimator modules."""

from torch import nn


class MLPModule(nn.Module):
    """A feed-forward network: Linear -> ReLU (-> Dropout) per hidden layer.

    Parameters
    ----------
    n_inputs : int
        Width of the input vectors.
    n_outputs : int
        Number of classes; the module returns one logit per class.
    hidden_dims : sequence of int, default=(128, 64)
        Width of each hidden layer.
    dropout : float, default=0.0
        Dropout probability after each hidden layer (0 disables it).

    See Also
    --------
    MLPClassifier : The scikit-learn classifier that builds and trains it.

    Examples
    --------
    >>> import torch
    >>> from sklearn_mmer.neural import MLPModule
    >>> module = MLPModule(4, 3, hidden_dims=(8,))
    >>> module(torch.zeros(2, 4)).shape
    torch.Size([2, 3])
    """

    def __init__(self, n_inputs, n_outputs, hidden_dims=(128, 64), dropout=0.0):
        super().__init__()
        layers = []
        width = n_inputs
        for hidden in hidden_dims:
            layers += [nn.Linear(width, hidden), nn.ReLU()]
            if dropout > 0:
                layers.append(nn.Dropout(dropout))
            width = hidden
        layers.append(nn.Linear(width, n_outputs))
        self.layers = nn.Sequential(*layers)

    def forward(self, X):
        return self.layers(X)
