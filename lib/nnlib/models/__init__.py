"""Models of the course library (lectures 13 and 18): Sequential and the functional API.

>>> import numpy as np
>>> from nnlib.layers import Dense, Activation
>>> from nnlib.models import Sequential
>>> model = Sequential([Dense(8, seed=0), Activation("tanh"), Dense(1, seed=1)])
>>> model = model.compile(loss="mse", optimizer="sgd")
>>> X, y = np.zeros((4, 2)), np.zeros(4)
>>> sorted(model.fit(X, y, epochs=2).history)
['loss']
"""
from nnlib.models.training import BaseModel
from nnlib.models.sequential import Sequential
from nnlib.models.functional import Input, Model, Tensor
from nnlib.gradcheck import check_model

__all__ = ["BaseModel", "Sequential", "Input", "Model", "Tensor", "check_model"]
