"""nnlib: the shared numpy library of the course "Neural Networks from Scratch, executable".

Small modules, one concept each, imported the same way in every notebook, for example::

    from nnlib import activations as act, losses, style

Each public function's docstring states the shapes it takes and returns and the formula it
computes, and names the lecture that introduces it.
"""
__version__ = "0.1.0"
