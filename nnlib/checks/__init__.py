"""Self-checks for the pieces a learner writes, with a specific hint when one fails.

Each ``check_*`` function runs the learner's function (or class) on cases the learner does not see:
shapes, edge cases (logits of 1000, labels out of range, a last batch that is smaller), and a numerical
gradient check where there is a gradient. It prints one line, ``softmax: 5 checks passed``, or the case
that failed and a hint that says what is probably wrong::

    >>> nnlib.checks.check_softmax(my_softmax)
    softmax: failed on "each row sums to 1".
      Hint: your rows do not sum to 1 but your columns do: sum over axis=1 (one row per example), keepdims=True.

A function still stubbed with ``raise NotImplementedError()`` gets "not implemented yet", not a
traceback. Each check also returns a ``CheckResult``, true if every case passed, which a notebook does not
display (the printed line is the output).

For grading, every check also takes ``strict=True``: a failed check (a stub included) then raises
``AssertionError`` with its hint, so ``check_softmax(softmax, strict=True)`` or ``assert check_softmax(softmax)``
fails a test. With the environment variable ``NNLIB_GRADING=1`` (set by ``teacher/nbgrader_config.py``, which
nbgrader's autograde reads) every check is strict; a learner's notebook only prints, and goes on.

| check | piece (notebook) | signature checked |
|---|---|---|
| ``check_loss_and_grad`` | 01 | ``loss_and_grad(w, b, X, y) -> (loss, dw, db)``, logistic regression |
| ``check_gd_step`` | 01 | ``gd_step(w, b, dw, db, lr) -> (w, b)``, new arrays |
| ``check_one_hot`` | 02 | ``one_hot(y, num_classes=10) -> Y (N, num_classes)`` |
| ``check_sigmoid`` | 03 | ``sigmoid(Z) -> A``, elementwise |
| ``check_softmax`` | 03 | ``softmax(Z) -> P``, row-wise on ``(N, C)`` |
| ``check_cross_entropy`` | 03 | ``cross_entropy(P, Y) -> float``, the mean over rows |
| ``check_backward_example`` | 04 | ``backward_example(params, cache, y) -> grads`` for one image |
| ``check_forward_backward`` | 05 | ``forward(params, X) -> (A, cache)``, ``backward(params, cache, Y) -> grads`` |
| ``check_he`` | 06 | ``he(n_in, n_out, rng) -> (W, b)`` |
| ``check_minibatches`` | 07 | ``minibatches(X, Y, batch_size, rng)`` yields ``(X_batch, Y_batch)`` |
| ``check_train_epoch`` | 07 | ``train_epoch(model, X, Y, optimizer, batch_size, rng) -> float``, the epoch's mean loss |
| ``check_momentum`` | 08 | ``MyMomentum(lr, beta)`` with ``.step(params, grads)``, EMA form |
| ``check_layer`` | 10 | a layer class: ``forward(X, training) -> (out, cache)``, ``backward(dout, cache) -> dX``, ``.grads`` |
| ``check_dropout`` | 11 | ``dropout_forward(A, p, rng) -> (out, mask)``, ``dropout_backward(dout, mask) -> dA``, inverted dropout |
| ``check_adam`` | 12 | ``MyAdam(lr, beta1, beta2, eps)`` with ``.step(params, grads)`` |
| ``check_batchnorm_forward`` | 13 | ``batchnorm_forward(X, gamma, beta, eps=1e-5) -> (out, cache)``, training mode |
| ``check_batchnorm_backward`` | 13 | ``batchnorm_backward(dout, cache) -> (dX, dgamma, dbeta)``, with the learner's forward |
| ``check_conv_forward`` | 14 | ``conv_forward(X, W, b, stride, pad) -> out (N, F, H_out, W_out)`` (loops or im2col) |
| ``check_im2col`` | 14 | ``im2col(X, kh, kw, stride, pad) -> cols (N * H_out * W_out, C * kh * kw)`` |
| ``check_conv_backward`` | 14 | ``conv_backward(dout, X, W, stride, pad) -> (dX, dW, db)`` |
| ``check_maxpool`` | 14 | ``maxpool_forward(X, size=2) -> out``, ``maxpool_backward(dout, X, size=2) -> dX`` |
| ``check_fix_scale_pixels`` | 15 | ``scale_pixels(X_raw) -> X``, uint8 0..255 to float32 ``X_raw / 255`` |
| ``check_fix_targets`` | 15 | ``to_targets(y) -> Y (N, 10)``, float32 one-hot rows |
| ``check_fix_softmax`` | 15 | ``softmax(Z) -> P``, each row sums to 1 (the axis fixed) |
| ``check_fix_init`` | 15 | ``init_params(sizes, rng) -> {"W1", "b1", ...}``, He normal, zero biases |
| ``check_fix_batches`` | 15 | ``batches(X, Y, batch_size, rng)`` yields ``(X_batch, Y_batch)``, shuffled each epoch |
| ``check_fix_output_grad`` | 15 | ``output_grad(P, Y) -> (P - Y) / N`` |
| ``check_fix_dead_units`` | 15 | ``dead_units(A) -> bool (units,)``, 0 on every example |
| ``check_fix_best_lr`` | 15 | ``best_lr(sweep_acc) -> lr``, the rate whose worst seed does best |
| ``check_exercise`` | 00-14 | ``check_exercise("02.2", smooth_labels)``: an exercise's answer (see ``exercises``) |

The checks live in one module per part of the course, on the plumbing of ``_core`` (cases, verdicts, hints):
``gradient_descent`` (01), ``functions`` (02, 03), ``backprop`` (04, 05), ``initialisation`` (06), ``minibatches`` and
``train_epoch`` (07), ``optimisers`` (08, 12), ``layers`` (10), ``regularisation`` (11), ``batchnorm`` (13),
``conv`` (14), ``debugging`` (15) and ``exercises`` (the exercises at the end of 00-14). All are imported here:
``nnlib.checks.check_softmax`` is the only name a notebook needs.
"""

from ._core import CheckResult, strictable
from .backprop import check_backward_example, check_forward_backward
from .batchnorm import check_batchnorm_backward, check_batchnorm_forward
from .conv import check_conv_backward, check_conv_forward, check_im2col, check_maxpool
from .exercises import check_exercise
from .debugging import (
    check_fix_batches,
    check_fix_best_lr,
    check_fix_dead_units,
    check_fix_init,
    check_fix_output_grad,
    check_fix_scale_pixels,
    check_fix_softmax,
    check_fix_targets,
)
from .functions import check_cross_entropy, check_one_hot, check_sigmoid, check_softmax
from .gradient_descent import check_gd_step, check_loss_and_grad
from .initialisation import check_he
from .layers import check_layer
from .minibatches import check_minibatches
from .optimisers import check_adam, check_momentum
from .regularisation import check_dropout
from .train_epoch import check_train_epoch

__all__ = [
    "CheckResult",
    "check_loss_and_grad",
    "check_gd_step",
    "check_one_hot",
    "check_sigmoid",
    "check_softmax",
    "check_cross_entropy",
    "check_backward_example",
    "check_forward_backward",
    "check_he",
    "check_minibatches",
    "check_train_epoch",
    "check_momentum",
    "check_layer",
    "check_dropout",
    "check_adam",
    "check_conv_forward",
    "check_im2col",
    "check_conv_backward",
    "check_maxpool",
    "check_batchnorm_forward",
    "check_batchnorm_backward",
    "check_fix_scale_pixels",
    "check_fix_targets",
    "check_fix_softmax",
    "check_fix_init",
    "check_fix_batches",
    "check_fix_output_grad",
    "check_fix_dead_units",
    "check_fix_best_lr",
    "check_exercise",
]

# Every check takes ``strict=`` (``_core.strictable``): wrapped here, once, so that a new check needs nothing more.
for _name in __all__:
    if _name.startswith("check_"):
        globals()[_name] = strictable(globals()[_name])
del _name
