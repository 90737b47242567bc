"""Layers of the course library (lectures 13–22), one module per concept.

Every layer follows one contract: ``params`` and ``grads`` (dicts of arrays with the same keys),
``forward(x, training=True) -> out`` and ``backward(grad_out) -> grad_x``. See ``base.Layer``.
Two exceptions (lecture 22): ``Add`` takes a list of arrays and returns a list of gradients;
``Embedding`` takes integer ids and returns None (ids have no gradient).

>>> import numpy as np
>>> from nnlib.layers import Dense
>>> Dense(3, input_dim=2, seed=0).forward(np.ones((5, 2))).shape
(5, 3)
"""
from nnlib.layers.base import Layer
from nnlib.layers.dense import Dense
from nnlib.layers.activation import Activation, Softmax
from nnlib.layers.dropout import Dropout
from nnlib.layers.batchnorm import BatchNorm
from nnlib.layers.conv import Conv2D, MaxPool2D, AvgPool2D, Flatten
from nnlib.layers.recurrent import RNNCell, LSTMCell, RNN, LSTM
from nnlib.layers.layernorm import LayerNorm
from nnlib.layers.embedding import Embedding
from nnlib.layers.positional import PositionalEncoding, PositionalEmbedding
from nnlib.layers.attention import MultiHeadAttention
from nnlib.layers.merge import Add
from nnlib.layers.seqpool import SequencePool
from nnlib.layers.transformer import TransformerBlock

__all__ = ["Layer", "Dense", "Activation", "Softmax", "Dropout", "BatchNorm", "Conv2D",
           "MaxPool2D", "AvgPool2D", "Flatten", "RNNCell", "LSTMCell", "RNN", "LSTM",
           "LayerNorm", "Embedding", "PositionalEncoding", "PositionalEmbedding",
           "MultiHeadAttention", "Add", "SequencePool", "TransformerBlock"]
