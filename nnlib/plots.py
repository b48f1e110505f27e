"""Pictures a teacher shows: training curves, digits, the confusion matrix, mistakes, and two diagrams.

The plots (``plot_history``, ``plot_digits``, ``plot_confusion_matrix``, ``plot_most_confident_mistakes``) draw
into a new figure and return it. The diagrams (``plot_network``: a network as circles and lines;
``plot_graph``: one layer, or softmax + cross-entropy, as a computational graph with its forward and backward
formulas, or a tiny network worked through with numbers) draw into the Axes they are given, or a new figure's,
and return the Axes. In a notebook, end the cell with ``plt.show()``.
"""

from __future__ import annotations

import numpy as np

from .functional import sigmoid
from .metrics import most_confident_mistakes

__all__ = [
    "plot_history",
    "plot_digits",
    "plot_confusion_matrix",
    "plot_most_confident_mistakes",
    "plot_network",
    "plot_graph",
]


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
            ax.text(
                j,
                i,
                text,
                ha="center",
                va="center",
                fontsize=7,
                color="white" if shown[i, j] > shown.max() / 2 else "black",
            )
    ax.set(
        xlabel="predicted", ylabel="true", xticks=range(C.shape[1]), yticks=range(C.shape[0]), title="confusion matrix"
    )
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


# --------------------------------------------------------------------------------------------------------------
# Diagrams: the network as circles and lines, and one layer as a computational graph.
# Unlike the plots above, these draw into an Axes (a new figure's, if none is given) and return the Axes, so a
# notebook can put a diagram beside a curve.

_DOTS = "\u22ee"  # the vertical ellipsis drawn in place of the neurons a large layer hides


def _new_ax(ax, figsize, margins=None):
    if ax is None:
        fig, ax = _plt().subplots(figsize=figsize)
        if margins:
            fig.subplots_adjust(**margins)
    return ax


def _clean(ax):
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_visible(False)


def _is_int(v) -> bool:
    return isinstance(v, (int, np.integer)) and not isinstance(v, (bool, np.bool_))


def plot_network(sizes, activations=None, ax=None, max_shown: int = 6, title=None):
    """A textbook diagram of a fully connected network, one column of neurons per layer, inputs on the left.

    ``sizes`` lists the layer widths, e.g. ``[784, 16, 16, 10]``; ``activations`` (optional) names the
    activation of each layer after the input, e.g. ``["sigmoid", "sigmoid", "softmax"]``. A layer wider than
    ``max_shown`` is drawn with ``max_shown - 1`` circles and a vertical "⋮" before its last circle. Thin grey
    lines join every drawn neuron to every drawn neuron of the next layer (each line stands for one weight).
    Under each column: its size and role ("784 inputs", "16 hidden" / "sigmoid", "10 outputs" / "softmax").
    Returns the Axes (a new figure's if ``ax`` is None).
    """
    if not isinstance(sizes, (list, tuple)) or len(sizes) < 2:
        raise ValueError(f"sizes must be a list of at least 2 layer sizes, e.g. [784, 16, 10]; got {sizes!r}")
    if not all(_is_int(s) and s > 0 for s in sizes):
        raise ValueError(f"every layer size must be a positive integer; got {list(sizes)!r}")
    if activations is not None:
        if isinstance(activations, str) or len(activations) != len(sizes) - 1:
            raise ValueError(
                f"activations needs one name per layer after the input: {len(sizes) - 1} for sizes "
                f"{list(sizes)}; got {activations!r}"
            )
    if not _is_int(max_shown) or max_shown < 3:
        raise ValueError(f"max_shown must be an integer >= 3; got {max_shown!r}")
    from matplotlib.patches import Circle

    n_layers = len(sizes)
    ax = _new_ax(ax, figsize=(min(2.0 + 1.9 * n_layers, 12), 4.6))
    dx, radius = 2.4, 0.3
    top = (max(min(s, max_shown) for s in sizes) - 1) / 2

    columns = []  # per layer: the y of each drawn neuron, and the y of the "⋮" (or None)
    for s in sizes:
        slots = min(s, max_shown)
        ys = [(slots - 1) / 2 - i for i in range(slots)]
        if s > max_shown:
            columns.append((ys[:-2] + ys[-1:], ys[-2]))
        else:
            columns.append((ys, None))

    for i in range(n_layers - 1):  # the weights first, so the circles sit on top of them
        for y0 in columns[i][0]:
            for y1 in columns[i + 1][0]:
                ax.plot([i * dx, (i + 1) * dx], [y0, y1], color="0.72", lw=0.6, zorder=1)

    fills = ("#cfe2f3", "#e8e8e8", "#f4cccc")  # inputs, hidden, outputs
    for i, (s, (ys, dots_y)) in enumerate(zip(sizes, columns)):
        role = 0 if i == 0 else (2 if i == n_layers - 1 else 1)
        for y in ys:
            ax.add_patch(Circle((i * dx, y), radius, facecolor=fills[role], edgecolor="black", lw=1.0, zorder=3))
        if dots_y is not None:
            ax.text(i * dx, dots_y, _DOTS, ha="center", va="center", fontsize=16, zorder=3)
        noun = ("input", "hidden", "output")[role]
        label = f"{s} {noun}" + ("s" if role != 1 and s != 1 else "")
        if activations is not None and i > 0:
            label += f"\n{activations[i - 1]}"
        ax.text(i * dx, -top - 0.75, label, ha="center", va="top", fontsize=10)

    ax.set_xlim(-0.9, (n_layers - 1) * dx + 0.9)
    ax.set_ylim(-top - 2.0, top + 0.7)
    _clean(ax)
    if title is None:
        title = "a " + "-".join(str(s) for s in sizes) + " network"
    ax.set_title(title)
    return ax


# Computational graphs -----------------------------------------------------------------------------------------

_FWD = dict(color="black", lw=1.4, linestyle="-")
_BWD = dict(color="#c62828", lw=1.4, linestyle=(0, (4, 2.5)))


def _box(ax, xy, text, fill, op=False, w=1.1, h=0.8, fontsize=None):
    """A node: a rounded box for a value, a circle for an operation. Returns the patch (arrows clip to it)."""
    from matplotlib.patches import Circle, FancyBboxPatch

    x, y = xy
    if op:
        patch = Circle(xy, 0.62, facecolor=fill, edgecolor="black", lw=1.2, zorder=3)
    else:
        patch = FancyBboxPatch(
            (x - w / 2, y - h / 2),
            w,
            h,
            boxstyle="round,pad=0.02,rounding_size=0.15",
            facecolor=fill,
            edgecolor="black",
            lw=1.2,
            zorder=3,
        )
    ax.add_patch(patch)
    ax.text(x, y, text, ha="center", va="center", fontsize=fontsize or (8.5 if op else 13), zorder=4)
    return patch


def _edge(
    ax, a, b, pa, pb, style, label=None, side=1, offset=0.14, gap=0.12, color=None, fontsize=10, along=0.5, rad=0.0
):
    """An arrow from point a to point b, shifted ``offset`` to one side (side=+1 left of the direction a->b,
    -1 right), clipped to the patches pa and pb; its label sits ``gap`` further out on the same side."""
    from matplotlib.patches import FancyArrowPatch

    a, b = np.asarray(a, float), np.asarray(b, float)
    d = (b - a) / np.linalg.norm(b - a)
    n = np.array([-d[1], d[0]]) * side
    arrow = FancyArrowPatch(
        a + offset * n,
        b + offset * n,
        patchA=pa,
        patchB=pb,
        shrinkA=2,
        shrinkB=2,
        arrowstyle="-|>,head_length=6,head_width=3",
        mutation_scale=1,
        connectionstyle=f"arc3,rad={rad}",
        zorder=2,
        **style,
    )
    ax.add_patch(arrow)
    if label:
        p = a + along * (b - a) + (offset + gap) * n
        ha = "center" if abs(n[0]) < 0.3 else ("left" if n[0] > 0 else "right")
        va = "center" if abs(n[1]) < 0.3 else ("bottom" if n[1] > 0 else "top")
        ax.text(*p, label, ha=ha, va=va, fontsize=fontsize, color=color or style["color"], zorder=4)
    return arrow


def _legend(ax, loc):
    from matplotlib.lines import Line2D

    handles = [
        Line2D([], [], **_FWD, label="forward: values"),
        Line2D([], [], **_BWD, label="backward: gradients of L"),
    ]
    ax.legend(handles=handles, loc=loc, fontsize=9, frameon=False)


_GRAPH_KINDS = ("layer", "softmax_ce", "numbers")

# the tiny network of plot_graph("numbers"): one input, one sigmoid unit, one linear output, squared error
_NUMBERS = dict(x=1.5, w1=0.8, b1=-0.2, w2=-1.2, b2=0.3, y=1.0)


def plot_graph(kind: str = "layer", ax=None, values=None):
    """A computational graph: values in boxes, operations in circles, forward edges black, backward red dashed.

    ``kind="layer"``: one linear layer and its activation, X, W, b -> matmul + add -> Z -> f -> A -> ... loss L,
    with the forward formulas (Z = XW + b, A = f(Z)) on the black edges and the gradients on the red edges going
    back (dZ = dA ⊙ f'(Z), dW = Xᵀ dZ, db = the sum over rows of dZ, dX = dZ Wᵀ).

    ``kind="softmax_ce"``: Z -> softmax -> P, and P with the one-hot Y -> cross-entropy -> L, forward
    P = softmax(Z) and L = -(1/N) Σ Y ⊙ log P; a single red arrow from L back to Z carries dZ = (P - Y)/N, the
    product of the softmax and log Jacobians, which simplifies to this.

    ``kind="numbers"``: a tiny scalar network worked through with numbers, x -> z1 = w1 x + b1 ->
    a1 = sigmoid(z1) -> z2 = w2 a1 + b2 -> L = (z2 - y)^2 / 2. Each value box shows its value ("z1 = 1.000"),
    each red arrow the gradient of L reaching the node it points to ("dz2 = -1.577"), down to the parameters
    (dw1, db1, dw2, db2). The numbers are computed here, in float64 by the chain rule, and shown to 4
    significant digits. ``values`` (a dict) may replace some of the defaults x=1.5, w1=0.8, b1=-0.2, w2=-1.2,
    b2=0.3, y=1.

    Returns the Axes (a new figure's if ``ax`` is None).
    """
    if kind not in _GRAPH_KINDS:
        raise ValueError(f"unknown graph kind {kind!r}; valid kinds: {', '.join(map(repr, _GRAPH_KINDS))}")
    if values is not None and kind != "numbers":
        raise ValueError(f"values= only applies to kind='numbers', not {kind!r}")
    unknown = set(values or {}) - set(_NUMBERS)
    if unknown:
        raise ValueError(f"unknown names in values: {sorted(unknown)}; valid names: {list(_NUMBERS)}")
    if kind == "numbers":
        ax = _new_ax(ax, figsize=(13.5, 4.0), margins=dict(left=0.01, right=0.99, bottom=0.01, top=0.92))
        return _graph_numbers(ax, {**_NUMBERS, **(values or {})})
    ax = _new_ax(ax, figsize=(12, 4.4), margins=dict(left=0.01, right=0.99, bottom=0.01, top=0.92))
    return _graph_layer(ax) if kind == "layer" else _graph_softmax_ce(ax)


def _graph_layer(ax):
    val, par, opc, loss = "#cfe2f3", "#fff2cc", "#eeeeee", "#f4cccc"
    X, W, b = (0.0, 2.4), (0.0, 0.0), (0.0, -2.4)
    op1, Z, op2, A, L = (5.0, 0.0), (8.8, 0.0), (12.6, 0.0), (16.4, 0.0), (20.2, 0.0)
    pX, pW, pb = _box(ax, X, "$X$", val), _box(ax, W, "$W$", par), _box(ax, b, "$b$", par)
    p1 = _box(ax, op1, "matmul\n+ add", opc, op=True)
    pZ = _box(ax, Z, "$Z$", val)
    p2 = _box(ax, op2, "$f$", opc, op=True, fontsize=15)
    pA = _box(ax, A, "$A$", val)
    pL = _box(ax, L, "loss $L$", loss, w=1.6)

    # forward: black, on the inner / upper side; backward: red dashed, on the outer / lower side, going back
    _edge(ax, X, op1, pX, p1, _FWD, side=-1)
    _edge(ax, op1, X, p1, pX, _BWD, r"$dX = dZ\,W^\top$", side=-1, along=0.4)
    _edge(ax, W, op1, pW, p1, _FWD, side=1)
    _edge(ax, op1, W, p1, pW, _BWD, r"$dW = X^\top dZ$", side=1, along=0.55)
    _edge(ax, b, op1, pb, p1, _FWD, side=1)
    _edge(ax, op1, b, p1, pb, _BWD, r"$db = \Sigma$ rows of $dZ$", side=1, along=0.4)

    _edge(ax, op1, Z, p1, pZ, _FWD, r"$Z = XW + b$", side=1)
    _edge(ax, Z, op1, pZ, p1, _BWD, r"$dZ$", side=1)
    _edge(ax, Z, op2, pZ, p2, _FWD, None, side=1)
    _edge(ax, op2, Z, p2, pZ, _BWD, r"$dZ = dA \odot f^{\prime}(Z)$", side=1)
    _edge(ax, op2, A, p2, pA, _FWD, r"$A = f(Z)$", side=1)
    _edge(ax, A, op2, pA, p2, _BWD, r"$dA$", side=1)
    _edge(ax, A, L, pA, pL, _FWD, "... later layers", side=1)
    _edge(ax, L, A, pL, pA, _BWD, r"$dA = \partial L / \partial A$", side=1)

    ax.set_xlim(-0.8, 21.2)
    ax.set_ylim(-3.1, 3.2)
    _clean(ax)
    _legend(ax, "upper right")
    ax.set_title("one layer as a computational graph: forward (black) and backward (red, dashed)")
    return ax


def _graph_softmax_ce(ax):
    val, opc, loss, lab = "#cfe2f3", "#eeeeee", "#f4cccc", "#d9ead3"
    Z, op1, P, op2, L, Y = (0.0, 0.0), (3.6, 0.0), (7.2, 0.0), (10.8, 0.0), (16.0, 0.0), (10.8, 2.6)
    pZ = _box(ax, Z, "$Z$", val)
    p1 = _box(ax, op1, "softmax", opc, op=True)
    pP = _box(ax, P, "$P$", val)
    p2 = _box(ax, op2, "cross-\nentropy", opc, op=True)
    pL = _box(ax, L, "$L$", loss)
    pY = _box(ax, Y, "$Y$ (one-hot)", lab, w=2.6)

    _edge(ax, Z, op1, pZ, p1, _FWD, offset=0)
    _edge(ax, op1, P, p1, pP, _FWD, r"$P = \mathrm{softmax}(Z)$", offset=0, gap=0.15)
    _edge(ax, P, op2, pP, p2, _FWD, offset=0)
    _edge(ax, Y, op2, pY, p2, _FWD, offset=0)
    _edge(ax, op2, L, p2, pL, _FWD, r"$L = -(1/N)\,\Sigma\; Y \odot \log P$", offset=0, gap=0.15)

    # the one backward arrow, L -> Z, curving under the forward path
    _edge(ax, L, Z, pL, pZ, _BWD, None, offset=0, rad=-0.3)
    ax.text(8.0, -2.65, r"$dZ = (P - Y)\,/\,N$", ha="center", va="top", fontsize=14, color=_BWD["color"])
    ax.text(
        8.0,
        -3.35,
        "the softmax Jacobian and the derivative of log combine into this one simple step",
        ha="center",
        va="top",
        fontsize=9.5,
        color="0.35",
        style="italic",
    )
    ax.set_xlim(-0.8, 16.8)
    ax.set_ylim(-4.0, 3.3)
    _clean(ax)
    _legend(ax, "upper left")
    ax.set_title("softmax + cross-entropy: forward (black), and one backward step (red, dashed)")
    return ax


def _sig4(v) -> str:
    """4 significant digits, trailing zeros kept: 1.0 -> "1.000", -1.5041 -> "-1.504"."""
    return f"{float(v):#.4g}".rstrip(".")


def _graph_numbers(ax, v):
    val, par, opc, loss, lab = "#cfe2f3", "#fff2cc", "#eeeeee", "#f4cccc", "#d9ead3"
    x, w1, b1, w2, b2, y = (np.float64(v[k]) for k in ("x", "w1", "b1", "w2", "b2", "y"))
    # forward, left to right
    z1 = w1 * x + b1
    a1 = sigmoid(z1)
    z2 = w2 * a1 + b2
    L = 0.5 * (z2 - y) ** 2
    # backward, right to left: each gradient is the one after it times a local derivative
    dz2 = z2 - y  # dL/dz2
    dw2, db2, da1 = dz2 * a1, dz2, dz2 * w2
    dz1 = da1 * a1 * (1 - a1)  # sigmoid'(z1) = a1 (1 - a1)
    dw1, db1 = dz1 * x, dz1

    def given(name, value):
        return f"${name} = {float(value):g}$"

    def computed(name, value):
        return f"${name} = {_sig4(value)}$"

    # one row, left to right; the parameters above and below their operation, y below the loss
    B, g, G, up = 3.3, 0.9, 3.0, 2.9  # value box width; gaps without and with a red label; parameter height
    widths = [B, 1.24, B, 1.24, B, 1.24, B, 1.24, B]  # of x, op1, z1, sigma, a1, op2, z2, op3, L (circles: 1.24)
    gaps = [g, g, G, g, G, g, G, 1.9]
    xs = [B / 2]
    for w0, gap, w1_ in zip(widths[:-1], gaps, widths[1:]):
        xs.append(xs[-1] + w0 / 2 + gap + w1_ / 2)
    X, op1, Z1, s1, A1, op2, Z2, op3, Ln = ((cx, 0.0) for cx in xs)
    W1, B1, W2, B2, Yn = (op1[0], up), (op1[0], -up), (op2[0], up), (op2[0], -up), (op3[0], -up)
    fb = 11
    pX = _box(ax, X, given("x", x), lab, w=B, fontsize=fb)
    p1 = _box(ax, op1, "$\\times\\,+$", opc, op=True, fontsize=12)
    pW1 = _box(ax, W1, given("w_1", w1), par, w=B, fontsize=fb)
    pB1 = _box(ax, B1, given("b_1", b1), par, w=B, fontsize=fb)
    pZ1 = _box(ax, Z1, computed("z_1", z1), val, w=B, fontsize=fb)
    ps = _box(ax, s1, "$\\sigma$", opc, op=True, fontsize=15)
    pA1 = _box(ax, A1, computed("a_1", a1), val, w=B, fontsize=fb)
    p2 = _box(ax, op2, "$\\times\\,+$", opc, op=True, fontsize=12)
    pW2 = _box(ax, W2, given("w_2", w2), par, w=B, fontsize=fb)
    pB2 = _box(ax, B2, given("b_2", b2), par, w=B, fontsize=fb)
    pZ2 = _box(ax, Z2, computed("z_2", z2), val, w=B, fontsize=fb)
    p3 = _box(ax, op3, "$\\frac{1}{2}(\\cdot)^2$", opc, op=True, fontsize=10)
    pY = _box(ax, Yn, given("y", y), lab, w=B, fontsize=fb)
    pL = _box(ax, Ln, computed("L", L), loss, w=B, fontsize=fb)

    # forward: black, above (or right of) the line between two nodes; backward: red dashed, below (or left)
    fs = 10
    _edge(ax, X, op1, pX, p1, _FWD, offset=0)
    for P, pP, op, pop, name, d in [
        (W1, pW1, op1, p1, "dw_1", dw1),
        (B1, pB1, op1, p1, "db_1", db1),
        (W2, pW2, op2, p2, "dw_2", dw2),
        (B2, pB2, op2, p2, "db_2", db2),
    ]:
        side = 1 if P[1] > 0 else -1
        _edge(ax, P, op, pP, pop, _FWD, side=side)
        _edge(ax, op, P, pop, pP, _BWD, computed(name, d), side=side, fontsize=fs)
    chain = [(X, pX), (op1, p1), (Z1, pZ1), (s1, ps), (A1, pA1), (op2, p2), (Z2, pZ2), (op3, p3), (Ln, pL)]
    labels = [None, computed("dz_1", dz1), None, computed("da_1", da1), None, computed("dz_2", dz2), "$dL = 1$"]
    for i, label in enumerate(labels, start=1):
        (a, pa), (b, pb) = chain[i], chain[i + 1]
        along = (widths[i + 1] / 2 + gaps[i] / 2) / (b[0] - a[0])  # the red label under the middle of the gap
        _edge(ax, a, b, pa, pb, _FWD, side=1)
        _edge(ax, b, a, pb, pa, _BWD, label, side=1, fontsize=fs, along=along)
    _edge(ax, Yn, op3, pY, p3, _FWD, offset=0)

    grey = dict(ha="center", va="top", fontsize=10, color="0.3")
    mid = (xs[0] + xs[-1]) / 2
    ax.text(
        mid,
        -3.75,
        "forward (black): $z_1 = w_1 x + b_1$,   $a_1 = \\sigma(z_1)$,   $z_2 = w_2 a_1 + b_2$,   "
        "$L = \\frac{1}{2}(z_2 - y)^2$",
        **grey,
    )
    ax.text(
        mid,
        -4.45,
        "backward (red): each gradient is the gradient after it times a local derivative, e.g. "
        f"$dz_1 = da_1 \\cdot a_1(1 - a_1) = {_sig4(da1)} \\times {_sig4(a1 * (1 - a1))} = {_sig4(dz1)}$",
        **grey,
    )
    ax.set_xlim(-0.3, xs[-1] + B / 2 + 0.3)
    ax.set_ylim(-5.0, 3.6)
    _clean(ax)
    _legend(ax, "upper right")
    ax.set_title("a tiny network with numbers: forward values (black) and gradients of L (red, dashed)")
    return ax
