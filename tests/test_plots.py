"""The diagrams in nnlib.plots: plot_network (circles and lines) and plot_graph (computational graphs)."""

import math
import re

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.colors import to_rgb  # noqa: E402
from matplotlib.patches import Circle, FancyArrowPatch, FancyBboxPatch  # noqa: E402

from nnlib.plots import (
    plot_confusion_matrix,
    plot_digits,
    plot_graph,
    plot_history,  # noqa: E402
    plot_most_confident_mistakes,
    plot_network,
)
from nnlib.train import History  # noqa: E402

DOTS = "\u22ee"


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def texts(ax):
    return [t.get_text() for t in ax.texts]


def circles(ax):
    return [p for p in ax.patches if isinstance(p, Circle)]


# the plots: what they draw is the data they were given ------------------------------------------------------


def test_history_lines_are_the_recorded_values():
    a = History(loss=[2.0, 1.0, 0.5], train_acc=[0.3, 0.6, 0.8], val_loss=[2.2, 1.3, 0.9], val_acc=[0.25, 0.5, 0.7])
    b = History(loss=[1.5, 0.4], train_acc=[0.4, 0.9])  # no validation
    fig = plot_history(a, b, labels=["a", "b"])
    ax_loss, ax_acc = fig.axes
    drawn = {
        (ax.get_title(), line.get_label()): (line.get_xdata().tolist(), line.get_ydata().tolist())
        for ax in (ax_loss, ax_acc)
        for line in ax.lines
    }
    assert drawn == {
        ("loss", "a: train"): ([1, 2, 3], a.loss),
        ("loss", "a: validation"): ([1, 2, 3], a.val_loss),
        ("accuracy", "a: train"): ([1, 2, 3], a.train_acc),
        ("accuracy", "a: validation"): ([1, 2, 3], a.val_acc),
        ("loss", "b: train"): ([1, 2], b.loss),
        ("accuracy", "b: train"): ([1, 2], b.train_acc),
    }
    colour = {line.get_label(): line.get_color() for line in ax_loss.lines}
    assert colour["a: train"] == colour["a: validation"] != colour["b: train"]  # one colour per run
    assert [line.get_linestyle() for line in ax_acc.lines] == ["-", "--", "-"]  # validation dashed


def test_digits_images_are_the_rows_of_X_titled_with_label_and_prediction():
    X = np.random.default_rng(0).random((12, 784), dtype=np.float32)
    labels, preds = np.arange(12) % 10, np.array([0, 1, 2, 3, 4, 5, 6, 7, 8, 1, 0, 0])
    fig = plot_digits(X, labels=labels, preds=preds, ncols=5)
    assert len(fig.axes) == 15
    shown = [ax for ax in fig.axes if ax.images]
    assert len(shown) == 12 and fig.axes[:12] == shown  # row after row, the rest left empty
    for i, ax in enumerate(shown):
        np.testing.assert_array_equal(ax.images[0].get_array(), X[i].reshape(28, 28))
        assert ax.get_title() == f"{labels[i]} (pred {preds[i]})"
        wrong = preds[i] != labels[i]
        assert (ax.title.get_color() == "crimson") == wrong, i
    assert [ax.get_title() for ax in plot_digits(X[:2], labels=[7, 1]).axes[:2]] == ["7", "1"]
    assert [ax.get_title() for ax in plot_digits(X[:2], preds=[3, 4]).axes[:2]] == ["pred 3", "pred 4"]


@pytest.mark.parametrize("normalize", [False, True])
def test_confusion_matrix_image_and_numbers_are_the_matrix(normalize):
    C = np.array([[5, 1, 0], [2, 7, 1], [0, 3, 9]])  # not symmetric: a transpose shows
    fig = plot_confusion_matrix(C, normalize=normalize)
    ax = fig.axes[0]
    shown = C / C.sum(axis=1, keepdims=True) if normalize else C
    np.testing.assert_allclose(ax.images[0].get_array(), shown)
    written = {(round(t.get_position()[1]), round(t.get_position()[0])): t.get_text() for t in ax.texts}
    assert written == {
        (i, j): (f"{shown[i, j]:.2f}" if normalize else str(C[i, j])) for i in range(3) for j in range(3)
    }  # row i (true), column j (predicted)
    assert ax.get_xlabel() == "predicted" and ax.get_ylabel() == "true"


def test_most_confident_mistakes_shows_those_digits():
    X = np.random.default_rng(1).random((4, 784), dtype=np.float32)
    P = np.array([[0.1, 0.9], [0.8, 0.2], [0.4, 0.6], [0.7, 0.3]])
    y = np.array([0, 0, 1, 1])  # rows 0 (p=0.9) and 3 (p=0.7) are wrong
    fig = plot_most_confident_mistakes(X, y, P, k=2)
    for ax, i in zip(fig.axes, [0, 3]):
        np.testing.assert_array_equal(ax.images[0].get_array(), X[i].reshape(28, 28))
        assert ax.get_title() == f"{y[i]} as {P[i].argmax()}\np={P[i].max():.2f}"


# plot_network -----------------------------------------------------------------------------------------------


def test_network_draws_one_circle_per_shown_neuron_and_dots_for_large_layers():
    ax = plot_network([784, 16, 10], ["sigmoid", "softmax"], max_shown=6)
    # each layer is wider than 6: 5 circles and one "⋮" each
    assert len(circles(ax)) == 5 + 5 + 5
    assert texts(ax).count(DOTS) == 3
    # every drawn neuron joined to every drawn neuron of the next layer
    assert len(ax.lines) == 5 * 5 + 5 * 5


def test_network_small_layers_are_drawn_in_full_without_dots():
    ax = plot_network([4, 6, 7, 1], max_shown=6)
    assert len(circles(ax)) == 4 + 6 + 5 + 1
    assert texts(ax).count(DOTS) == 1  # only the layer of 7 is larger than max_shown
    assert len(ax.lines) == 4 * 6 + 6 * 5 + 5 * 1
    # the "⋮" sits in the column of the layer of 7, between its circles
    (dots,) = [t for t in ax.texts if t.get_text() == DOTS]
    column = [c.center for c in circles(ax) if np.isclose(c.center[0], dots.get_position()[0])]
    assert len(column) == 5
    ys = sorted(y for _, y in column)
    assert ys[0] < dots.get_position()[1] < ys[1]  # just above the last circle


def test_network_labels_name_sizes_roles_and_activations():
    ax = plot_network([784, 16, 16, 10], ["sigmoid", "sigmoid", "softmax"])
    labels = [t for t in texts(ax) if t != DOTS]
    assert labels == ["784 inputs", "16 hidden\nsigmoid", "16 hidden\nsigmoid", "10 outputs\nsoftmax"]
    assert "784-16-16-10" in ax.get_title()
    assert labels == [
        t for t in texts(plot_network([784, 16, 16, 10], ["sigmoid", "sigmoid", "softmax"], max_shown=20)) if t != DOTS
    ]
    assert [t for t in texts(plot_network([2, 1])) if t != DOTS] == ["2 inputs", "1 output"]


def test_network_labels_do_not_overlap_at_the_default_size():
    ax = plot_network([784, 256, 128, 64, 10], ["relu", "relu", "relu", "softmax"])
    ax.figure.canvas.draw()
    boxes = [t.get_window_extent() for t in ax.texts if t.get_text() != DOTS]
    assert len(boxes) == 5
    assert all(a.x1 < b.x0 for a, b in zip(boxes[:-1], boxes[1:]))
    lowest = min(c.get_window_extent().y0 for c in circles(ax))
    assert all(b.y1 < lowest for b in boxes)


def test_network_is_a_clean_diagram_on_the_given_axes():
    fig, given = plt.subplots()
    ax = plot_network([3, 2], ax=given)
    assert ax is given
    assert ax.get_xticks().size == 0 and ax.get_yticks().size == 0
    assert not any(s.get_visible() for s in ax.spines.values())
    assert ax.get_aspect() == 1.0


@pytest.mark.parametrize(
    "sizes, activations, match",
    [
        ([784], None, "at least 2"),
        ([], None, "at least 2"),
        ("784,10", None, "at least 2"),
        ([784, 0, 10], None, "positive integer"),
        ([784, -3], None, "positive integer"),
        ([784, 16.0, 10], None, "positive integer"),
        ([784, True], None, "positive integer"),
        ([784, 16, 10], ["relu"], "one name per layer after the input: 2"),
        ([784, 16, 10], ["relu", "relu", "softmax"], "one name per layer after the input: 2"),
        ([784, 10], "softmax", "one name per layer"),
    ],
)
def test_network_rejects_bad_inputs(sizes, activations, match):
    with pytest.raises(ValueError, match=match):
        plot_network(sizes, activations)


def test_network_rejects_too_small_max_shown():
    with pytest.raises(ValueError, match="max_shown"):
        plot_network([784, 10], max_shown=2)


# plot_graph -------------------------------------------------------------------------------------------------


def test_layer_graph_shows_the_forward_and_backward_formulas():
    ax = plot_graph("layer")
    joined = "\n".join(texts(ax))
    for formula in [
        r"Z = XW + b",
        r"A = f(Z)",
        r"dZ = dA \odot f^{\prime}(Z)",
        r"dW = X^\top dZ",
        r"db = \Sigma$ rows of $dZ",
        r"dX = dZ\,W^\top",
    ]:
        assert formula in joined, formula
    for node in ["$X$", "$W$", "$b$", "$Z$", "$A$", "loss $L$"]:
        assert node in texts(ax), node
    assert ax.get_title()


def test_layer_graph_edges_forward_black_backward_red_dashed():
    ax = plot_graph("layer")
    arrows = [p for p in ax.patches if isinstance(p, FancyArrowPatch)]
    red = [a for a in arrows if a.get_edgecolor()[0] > 0.5 and a.get_edgecolor()[1] < 0.5]
    black = [a for a in arrows if np.allclose(a.get_edgecolor()[:3], 0)]
    assert len(black) == len(red) == 7  # X, W, b -> op -> Z -> f -> A -> L, and each one back
    assert all(a.get_linestyle() != "-" for a in red) and all(a.get_linestyle() == "-" for a in black)


def test_softmax_ce_graph_shows_its_formulas_and_one_backward_arrow():
    ax = plot_graph("softmax_ce")
    joined = "\n".join(texts(ax))
    for formula in [r"P = \mathrm{softmax}(Z)", r"L = -(1/N)", r"Y \odot \log P", r"dZ = (P - Y)\,/\,N"]:
        assert formula in joined, formula
    assert "Jacobian" in joined
    arrows = [p for p in ax.patches if isinstance(p, FancyArrowPatch)]
    red = [a for a in arrows if a.get_edgecolor()[0] > 0.5 and a.get_edgecolor()[1] < 0.5]
    assert len(red) == 1 and len(arrows) == 6


def test_graph_draws_on_given_axes_without_ticks():
    fig, given = plt.subplots()
    ax = plot_graph("softmax_ce", ax=given)
    assert ax is given
    assert ax.get_xticks().size == 0 and ax.get_yticks().size == 0
    assert not any(s.get_visible() for s in ax.spines.values())


def test_graph_rejects_unknown_kind():
    with pytest.raises(ValueError, match=r"unknown graph kind 'conv'.*'layer'.*'softmax_ce'.*'numbers'"):
        plot_graph("conv")


# plot_graph("numbers"): a tiny network worked through with numbers --------------------------------------------

DEFAULTS = dict(x=1.5, w1=0.8, b1=-0.2, w2=-1.2, b2=0.3, y=1.0)


def tiny_loss(x, w1, b1, w2, b2, y, nudge=None):
    """L of the tiny network, in plain Python; nudge=(name, h) adds h to the value z1, a1 or z2 on its way."""
    name, h = nudge or ("", 0.0)
    z1 = w1 * x + b1 + (h if name == "z1" else 0.0)
    a1 = 1 / (1 + math.exp(-z1)) + (h if name == "a1" else 0.0)
    z2 = w2 * a1 + b2 + (h if name == "z2" else 0.0)
    return 0.5 * (z2 - y) ** 2, {"z1": z1, "a1": a1, "z2": z2}


def central_difference(values, name, h=1e-6):
    """dL/d(name) by central differences: a parameter is nudged directly, a value z1, a1, z2 on its way."""
    if name in values:
        up, down = ({**values, name: values[name] + s} for s in (h, -h))
        return (tiny_loss(**up)[0] - tiny_loss(**down)[0]) / (2 * h)
    return (tiny_loss(**values, nudge=(name, h))[0] - tiny_loss(**values, nudge=(name, -h))[0]) / (2 * h)


def shown_numbers(ax):
    """{"z1": 1.0, "dz1": 0.3721, "L": ..., ...} from the labels "$z_1 = 1.000$", "$dz_1 = 0.3721$", ..."""
    shown = {}
    for t in ax.texts:
        m = re.fullmatch(r"\$(d?[a-zA-Z]+)(?:_(\d))? = (-?[\d.]+)\$", t.get_text())
        if m:
            name = m[1] + (m[2] or "")
            assert name not in shown, name
            shown[name] = (float(m[3]), t.get_color())
    return shown


def to_display_precision(shown, exact):
    """The displayed number is exact rounded to 4 significant digits (half a unit in the 4th digit)."""
    return abs(shown - exact) <= 0.5 * 10.0 ** (math.floor(math.log10(abs(exact))) - 3) * (1 + 1e-6)


@pytest.mark.parametrize("values", [None, dict(x=-0.7, w1=1.3, b1=0.45, w2=2.1, b2=-0.6, y=0.0)])
def test_numbers_graph_shows_the_forward_values_and_the_gradients_of_a_central_difference(values):
    given = {**DEFAULTS, **(values or {})}
    ax = plot_graph("numbers", values=values)
    shown = shown_numbers(ax)
    assert set(shown) == {
        "x",
        "w1",
        "b1",
        "w2",
        "b2",
        "y",
        "z1",
        "a1",
        "z2",
        "L",
        "dw1",
        "db1",
        "dz1",
        "da1",
        "dw2",
        "db2",
        "dz2",
        "dL",
    }
    L, forward = tiny_loss(**given)
    expected = {**given, **forward, "L": L, "dL": 1.0}
    expected.update({"d" + k: central_difference(given, k) for k in ("w1", "b1", "w2", "b2", "z1", "a1", "z2")})
    red, black = to_rgb("#c62828"), (0.0, 0.0, 0.0)
    for name, (number, colour) in shown.items():
        if name in given:  # the given values, as given
            assert number == given[name], name
        else:
            assert to_display_precision(number, expected[name]), (name, number, expected[name])
        assert to_rgb(colour) == (red if name.startswith("d") else black), name
    # the worked step under the graph: dz1 = da1 * a1 (1 - a1), with the numbers shown above it
    (step,) = [t for t in texts(ax) if "a_1(1 - a_1)" in t]
    numbers = [float(n) for n in re.findall(r"= (-?[\d.]+) \\times (-?[\d.]+) = (-?[\d.]+)", step)[0]]
    a1 = forward["a1"]
    assert numbers[0] == shown["da1"][0] and numbers[2] == shown["dz1"][0]
    assert to_display_precision(numbers[1], a1 * (1 - a1))


def test_numbers_graph_has_13_black_arrows_and_11_red_dashed_ones():
    ax = plot_graph("numbers")
    arrows = [p for p in ax.patches if isinstance(p, FancyArrowPatch)]
    red = [a for a in arrows if a.get_edgecolor()[0] > 0.5 and a.get_edgecolor()[1] < 0.5]
    black = [a for a in arrows if np.allclose(a.get_edgecolor()[:3], 0)]
    # forward: x, w1, b1 -> op -> z1 -> sigma -> a1; a1, w2, b2 -> op -> z2; z2, y -> loss op -> L
    # backward: the same arrows back, except to the inputs x and y
    assert len(black) == 13 and len(red) == 11 and len(arrows) == 24
    assert all(a.get_linestyle() != "-" for a in red) and all(a.get_linestyle() == "-" for a in black)
    assert ax.get_title()


def test_numbers_graph_rejects_unknown_values():
    with pytest.raises(ValueError, match=r"unknown names in values: \['w3'\]"):
        plot_graph("numbers", values={"w3": 1.0})
    with pytest.raises(ValueError, match="only applies to kind='numbers'"):
        plot_graph("layer", values={"x": 1.0})


@pytest.mark.parametrize("kind", ["layer", "softmax_ce", "numbers"])
def test_graph_text_overlaps_no_other_text_node_or_arrow(kind):
    """Readable at the default size: no label touches another label, a node it does not name, or an arrow."""
    ax = plot_graph(kind)
    fig = ax.figure
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    boxes = [t.get_window_extent(renderer) for t in ax.texts]
    nodes = [p for p in ax.patches if isinstance(p, (Circle, FancyBboxPatch))]
    node_boxes = [p.get_window_extent(renderer) for p in nodes]
    arrows = [p for p in ax.patches if isinstance(p, FancyArrowPatch)]
    arrow_points = []
    for a in arrows:
        for poly in a.get_path().to_polygons(closed_only=False):
            pts = ax.transData.transform(poly)
            for p, q in zip(pts[:-1], pts[1:]):  # sample each segment densely
                arrow_points.append(p + np.linspace(0, 1, 50)[:, None] * (q - p))
    arrow_points = np.concatenate(arrow_points)

    for i, (t, box) in enumerate(zip(ax.texts, boxes)):
        inner = box.expanded(0.95, 0.9)
        for j in range(i + 1, len(boxes)):
            assert not inner.overlaps(boxes[j]), (t.get_text(), ax.texts[j].get_text())
        owner = [k for k, nb in enumerate(node_boxes) if nb.contains(*box.corners().mean(axis=0))]
        for k, nb in enumerate(node_boxes):
            if k not in owner:
                assert not inner.overlaps(nb), (t.get_text(), "overlaps a node")
        if not owner:
            inside = (
                (arrow_points[:, 0] > inner.x0)
                & (arrow_points[:, 0] < inner.x1)
                & (arrow_points[:, 1] > inner.y0)
                & (arrow_points[:, 1] < inner.y1)
            )
            assert not inside.any(), (t.get_text(), "crosses an arrow")
