"""The diagrams in nnlib.plots: plot_network (circles and lines) and plot_graph (computational graphs)."""
import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.patches import Circle, FancyArrowPatch, FancyBboxPatch  # noqa: E402

from nnlib.plots import plot_graph, plot_network  # noqa: E402

DOTS = "\u22ee"


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def texts(ax):
    return [t.get_text() for t in ax.texts]


def circles(ax):
    return [p for p in ax.patches if isinstance(p, Circle)]


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
    assert labels == [t for t in texts(plot_network([784, 16, 16, 10], ["sigmoid", "sigmoid", "softmax"],
                                                    max_shown=20)) if t != DOTS]
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


@pytest.mark.parametrize("sizes, activations, match", [
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
])
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
    for formula in [r"Z = XW + b", r"A = f(Z)", r"dZ = dA \odot f^{\prime}(Z)", r"dW = X^\top dZ",
                    r"db = \Sigma$ rows of $dZ", r"dX = dZ\,W^\top"]:
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
    with pytest.raises(ValueError, match=r"unknown graph kind 'conv'.*'layer'.*'softmax_ce'"):
        plot_graph("conv")


@pytest.mark.parametrize("kind", ["layer", "softmax_ce"])
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
            inside = ((arrow_points[:, 0] > inner.x0) & (arrow_points[:, 0] < inner.x1)
                      & (arrow_points[:, 1] > inner.y0) & (arrow_points[:, 1] < inner.y1))
            assert not inside.any(), (t.get_text(), "crosses an arrow")
