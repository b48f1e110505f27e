"""Pictures a teacher shows: training curves, digits, the confusion matrix, mistakes.

Each function draws into a new figure and returns it; in a notebook, end the
cell with ``plt.show()``.
"""
from __future__ import annotations

import numpy as np

from .metrics import most_confident_mistakes

__all__ = ["plot_history", "plot_digits", "plot_confusion_matrix", "plot_most_confident_mistakes"]


def _plt():
    import matplotlib.pyplot as plt

    return plt


def plot_history(*histories, labels=None, title=None):
    """Loss and accuracy per epoch for one or more ``History`` objects, side by side."""
    plt = _plt()
    labels = labels or [None] * len(histories)
    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(10, 3.6))
    for h, label in zip(histories, labels):
        epochs = np.arange(1, h.epochs + 1)
        prefix = f"{label}: " if label else ""
        (line,) = ax_loss.plot(epochs, h.loss, label=f"{prefix}train")
        ax_acc.plot(epochs, h.train_acc, color=line.get_color(), label=f"{prefix}train")
        if h.val_acc:
            ax_loss.plot(epochs, h.val_loss, "--", color=line.get_color(), label=f"{prefix}validation")
            ax_acc.plot(epochs, h.val_acc, "--", color=line.get_color(), label=f"{prefix}validation")
    ax_loss.set(xlabel="epoch", ylabel="loss", title="loss")
    ax_acc.set(xlabel="epoch", ylabel="accuracy", title="accuracy")
    for ax in (ax_loss, ax_acc):
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_digits(X, labels=None, preds=None, ncols: int = 10, size: float = 1.1):
    """A grid of digits (rows of X, each 784 pixels) titled with label and, if given, prediction."""
    plt = _plt()
    X = np.asarray(X).reshape(-1, 28, 28)
    nrows = max(1, int(np.ceil(len(X) / ncols)))
    fig, axes = plt.subplots(nrows, ncols, figsize=(size * ncols, size * nrows * 1.15), squeeze=False)
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i >= len(X):
            continue
        ax.imshow(X[i], cmap="gray_r")
        title = "" if labels is None else f"{labels[i]}"
        if preds is not None:
            title += f" (pred {preds[i]})" if labels is not None else f"pred {preds[i]}"
            wrong = labels is not None and preds[i] != labels[i]
            ax.set_title(title, fontsize=8, color="crimson" if wrong else "black")
        elif title:
            ax.set_title(title, fontsize=9)
    fig.tight_layout()
    return fig


def plot_confusion_matrix(C, normalize: bool = False):
    """Heat map of a confusion matrix C[i, j] = true i predicted j, with the counts written in."""
    plt = _plt()
    C = np.asarray(C)
    shown = C / np.maximum(C.sum(axis=1, keepdims=True), 1) if normalize else C
    fig, ax = plt.subplots(figsize=(6, 5.2))
    im = ax.imshow(shown, cmap="Blues")
    for i in range(C.shape[0]):
        for j in range(C.shape[1]):
            text = f"{shown[i, j]:.2f}" if normalize else f"{C[i, j]}"
            ax.text(j, i, text, ha="center", va="center", fontsize=7,
                    color="white" if shown[i, j] > shown.max() / 2 else "black")
    ax.set(xlabel="predicted", ylabel="true", xticks=range(C.shape[1]), yticks=range(C.shape[0]),
           title="confusion matrix")
    fig.colorbar(im, ax=ax, fraction=0.046)
    fig.tight_layout()
    return fig


def plot_most_confident_mistakes(X, y, P, k: int = 10):
    """The k test digits the model got wrong while most sure of itself."""
    idx = most_confident_mistakes(P, y, k)
    pred = np.asarray(P).argmax(axis=1)
    fig = plot_digits(np.asarray(X)[idx], labels=np.asarray(y)[idx], preds=pred[idx], ncols=min(k, 10))
    for ax, i in zip(fig.axes, idx):
        ax.set_title(f"{y[i]} as {pred[i]}\np={P[i, pred[i]]:.2f}", fontsize=8, color="crimson")
    return fig
