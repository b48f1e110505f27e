"""nnlib: the finished pieces of the course "How a neural network really learns".

Each module holds one idea, in the order the notebooks build them:

- ``data`` / ``download``: MNIST as arrays (rows are examples), found or downloaded and verified
- ``inputs``: the one check of X, labels, one-hot targets and settings that everything uses
- ``functional``: one-hot, sigmoid, ReLU, softmax, cross-entropy, accuracy
- ``losses``: softmax cross-entropy (from logits) and squared error, for training and evaluation alike
- ``init``: uniform(-0.5, 0.5), He and Xavier initialisation, for weights of any shape
- ``networks``: the per-example network (notebook 04) and ``mlp`` of any depth (notebook 05)
- ``layers``: the layer contract; Linear, ReLU, Sigmoid, Dropout, BatchNorm, the loss layers
  SoftmaxCrossEntropy and MeanSquaredError, and ``Model``, which chains any per-example shapes
- ``conv``: Conv2D, MaxPool2D and Flatten on images (N, C, H, W)
- ``optim``: SGD, momentum (EMA and classical), RMSProp, Adam, AdamW
- ``train``: ``fit`` for any of the networks, with a ``History``
- ``gradcheck``: numerical gradients and ``rel_error``
- ``metrics`` / ``plots`` / ``io``: evaluation, pictures and diagrams, saving and loading models
- ``expect``: checking a measured result (an accuracy, a rel_error) against a stated tolerance
- ``checks``: self-checks of the pieces a learner writes (``check_softmax(my_softmax)``), with hints
"""

from . import checks, conv, download, expect, gradcheck, init, inputs, losses, networks, plots
from .data import load_mnist, minibatches, random_shift, read_idx, read_mnist_csv, train_val_split
from .download import ChecksumError, MNISTNotFoundError
from .expect import ExpectationFailed, expect_below, expect_between, expect_near
from .functional import (
    accuracy,
    cross_entropy,
    one_hot,
    relu,
    relu_grad,
    sigmoid,
    sigmoid_grad,
    softmax,
    softmax_cross_entropy,
)
from .gradcheck import gradcheck_layer, gradcheck_model, numerical_gradient, rel_error
from .io import load_model, load_params, save_model
from .conv import Conv2D, Flatten, MaxPool2D
from .layers import (
    BatchNorm,
    Dropout,
    Layer,
    Linear,
    LossLayer,
    MeanSquaredError,
    Model,
    ReLU,
    Sigmoid,
    SoftmaxCrossEntropy,
)
from .losses import cross_entropy_with_logits, mean_squared_error
from .metrics import confusion_matrix, most_confident_mistakes, per_class_accuracy
from .networks import PerExampleNetwork, mlp
from .optim import SGD, Adam, AdamW, Momentum, RMSProp, cosine_schedule, step_schedule
from .train import History, TrainingDiverged, evaluate, fit

# The one place the version is kept: pyproject.toml reads it, and notebooks/course_url.py writes the matching
# release tag (v + this) into every notebook's first cell and every README badge.
__version__ = "0.2.0"
