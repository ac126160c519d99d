"""Graph drawings render with matplotlib everywhere and with graphviz where `dot` exists."""
import re
import xml.etree.ElementTree as ET

import pytest

import autograd_lite as ag
from autograd_lite.instruments import graphviz_available

needs_dot = pytest.mark.skipif(not graphviz_available(), reason="graphviz's dot is not installed")


def survey(x1, x2):
    return ag.log(x1) + x1 * x2 - ag.sin(x2)


@pytest.fixture(scope="module")
def tr():
    return ag.trace(survey, 2.0, 5.0)


def _svg_root(drawing):
    svg = drawing._repr_svg_()
    root = ET.fromstring(svg.encode())
    assert root.tag.endswith("svg")
    return svg


def test_matplotlib_drawing_has_nodes_values_and_partials(tr, tmp_path):
    d = ag.draw_graph(tr, edge_labels=True, overlay="adjoint", engine="matplotlib")
    assert d.engine == "matplotlib"
    svg = _svg_root(d)
    for text in ["v₂ = v₋₁ × v₀", "0.6931", "∂v₄/∂v₀ = cos(v₀) = 0.2837",
                 "v̄₀ = 1.716", "v̄₋₁ = 5.5", "ȳ = 1"]:
        assert text in svg
    png = d.save(tmp_path / "graph.png")
    assert open(png, "rb").read(8) == b"\x89PNG\r\n\x1a\n"
    assert open(d.save(tmp_path / "graph.svg"), "rb").read().lstrip().startswith(b"<?xml")
    with pytest.raises(ValueError, match=".svg or .png"):
        d.save(tmp_path / "graph.jpg")


def test_graph_structure_and_dot_source(tr):
    d = ag.draw_graph(tr, engine="matplotlib")
    # 2 inputs + 5 operations + y; 9 edges: two per binary op, one per unary op, one to y
    assert len(d.spec.nodes) == 8 and len(d.spec.edges) == 9
    edges = re.findall(r'"([^"]+)" -> "([^"]+)"', d.source)
    assert ("v_0", "v_4") in edges and ("v_{-1}", "v_1") in edges and ("v_5", "y") in edges
    assert repr(d) == "<computational graph: 8 nodes, 9 edges>"    # same text on every engine


def test_tangent_overlay_uses_the_forward_sweep(tr):
    tr.forward(seed=(0.0, 1.0))
    svg = ag.draw_graph(tr, overlay="tangent", engine="matplotlib")._repr_svg_()
    assert "v̇₄ = 0.2837" in svg and "v̇₋₁ = 0" in svg and "ẏ = 1.716" in svg


@needs_dot
def test_graphviz_engine(tr, tmp_path):
    d = ag.draw_graph(tr, edge_labels=True, overlay="adjoint", engine="graphviz")
    assert d.engine == "graphviz"
    svg = _svg_root(d)
    shown = re.findall(r"<text[^>]*>([^<]*)</text>", svg)
    assert "cos(v₀)" in " ".join(shown) and not any("v_{" in text for text in shown)
    assert open(d.save(tmp_path / "g.png"), "rb").read(4) == b"\x89PNG"


@needs_dot
def test_hovering_a_graphviz_drawing_shows_readable_names(tr):
    """Browsers show an SVG element's tooltip on hover; none may be a raw id like v_{-1}."""
    svg = ag.draw_graph(tr, engine="graphviz")._repr_svg_()
    hovers = re.findall(r'xlink:title="([^"]*)"', svg)
    assert "v₂ = v₋₁ × v₀, 10" in hovers and "v₋₁ → v₂" in hovers
    assert len(hovers) == 8 + 9 and not any("v_" in h for h in hovers)


def test_auto_engine_follows_dot_availability(tr, monkeypatch):
    assert ag.draw_graph(tr).engine == ("graphviz" if graphviz_available() else "matplotlib")
    import autograd_lite.instruments.graph as G
    monkeypatch.setattr(G.shutil, "which", lambda name: None)
    assert ag.draw_graph(tr).engine == "matplotlib"
    with pytest.raises(RuntimeError, match="matplotlib"):
        ag.draw_graph(tr, engine="graphviz")


def test_tensor_backward_graph():
    x = ag.tensor(2.0, requires_grad=True)
    y = ag.sin(x) * x + 3
    d = ag.draw_graph(y, engine="matplotlib", format="png")
    names = [n["lines"][0] for n in d.spec.nodes]
    assert "MulBackward" in names and "SinBackward" in names and "leaf" in names
    assert d._repr_png_()[:4] == b"\x89PNG" and d._repr_svg_() is None
    with pytest.raises(TypeError, match="Trace"):
        ag.draw_graph(3.0)


def test_sweep_frames_step_through_both_modes(tr):
    forward = tr.steps("forward", seed=(1.0, 0.0), engine="matplotlib")
    assert len(forward) == 1 + tr.size
    assert forward[2].title == "forward step 2: v̇₂ = v̇₋₁ v₀ + v₋₁ v̇₀ = 5"
    highlighted = [n["id"] for n in forward[2].spec.nodes if n["highlight"]]
    assert highlighted == ["v_2"]
    reverse = tr.steps("reverse", engine="matplotlib")
    assert len(reverse) == len(tr.reverse().steps)
    assert reverse[-1].title.startswith("reverse step 8: v̄₋₁ = v̄₋₁ + v̄₁ / v₋₁ = 5.5")
    frame = tr.draw_step(3, "reverse", engine="matplotlib")
    assert frame.title == reverse[3].title
    _svg_root(frame)
    with pytest.raises(IndexError, match="steps 0..8"):
        tr.draw_step(9, "reverse")


def test_sweep_widget_slider_shows_each_step(tr):
    widgets = pytest.importorskip("ipywidgets")
    box = ag.sweep_widget(tr, "reverse", engine="matplotlib")
    slider = box.children[0]
    assert isinstance(slider, widgets.IntSlider)
    assert (slider.min, slider.max) == (0, len(tr.reverse().steps) - 1)
    slider.value = 3                       # moving the slider redraws without error
    assert box.frames[3].title.startswith("reverse step 3: v̄₀ = v̄₄ cos(v₀)")


def test_pretty_writes_subscripts_and_leaves_other_text_alone():
    from autograd_lite.instruments.graph import pretty
    assert pretty("v_{-1} = x_1") == "v₋₁ = x₁"
    assert pretty("v̄_{12} = v̄_{12} + 1") == "v̄₁₂ = v̄₁₂ + 1"
    assert pretty("leaf (3, 4)") == "leaf (3, 4)" and pretty(None) is None


def test_direction_and_leaf_names_for_a_tensor_graph():
    w = ag.tensor([1.0, 2.0], requires_grad=True)
    b = ag.tensor(0.5, requires_grad=True)
    loss = ag.sum(ag.tanh(w * 3.0) + b)
    d = ag.draw_graph(loss, names={"w": w, "b": b}, direction="TB", engine="matplotlib")
    assert "rankdir=TB" in d.source
    labels = [n["lines"][0] for n in d.spec.nodes if n["kind"] == "input"]
    assert sorted(labels) == ["b", "w (2,)"]
    fig_w, fig_h = (float(v) for v in re.findall(r'(?:width|height)="([0-9.]+)pt"',
                                                  d._repr_svg_())[:2])
    assert fig_h > fig_w            # a chain drawn from the top down is tall, not wide
    with pytest.raises(ValueError, match="direction"):
        ag.draw_graph(loss, direction="up")


def _chain(x):
    for _ in range(14):
        x = ag.sin(x) * x + 1.5
    return x


def _png_width(png):
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    return int.from_bytes(png[16:20], "big")


def _svg_width_px(svg):
    width = ET.fromstring(svg.encode()).get("width")
    number, unit = re.fullmatch(r"([0-9.]+)(pt|px)?", width).groups()
    return float(number) * (96 / 72 if unit == "pt" else 1)


@pytest.mark.parametrize("engine", ["matplotlib", pytest.param("graphviz", marks=needs_dot)])
def test_drawings_come_as_svg_and_png_that_fit_a_900px_output_area(engine):
    """An untrusted notebook (every fresh clone) shows the PNG; a trusted one the SVG."""
    wide = ag.draw_graph(ag.trace(_chain, 0.3), edge_labels=True, engine=engine)
    bundle = wide._repr_mimebundle_()
    assert set(bundle) == {"image/png", "image/svg+xml"}
    assert 400 < _png_width(bundle["image/png"]) <= 900
    assert 400 < _svg_width_px(bundle["image/svg+xml"]) <= 900
    texts = re.findall(r"<text[^>]*>([^<]*)</text>", bundle["image/svg+xml"])
    assert any("v₁₀" in t for t in texts) and not any("_{" in t for t in texts)
    small = ag.draw_graph(ag.trace(ag.sin, 0.3), engine=engine)
    assert _png_width(small._repr_mimebundle_()["image/png"]) < 600     # small ones stay small
    assert set(ag.draw_graph(ag.trace(ag.sin, 0.3), engine=engine, format="png")
               ._repr_mimebundle_()) == {"image/png"}
