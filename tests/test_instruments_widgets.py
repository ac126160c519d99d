"""The slider figure of the lecture notebooks: drawn once as an image, redrawn on a move."""
import IPython.display
import matplotlib
import pytest

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from autograd_lite.instruments.widgets import figure_with_sliders  # noqa: E402

widgets = pytest.importorskip("ipywidgets")


class _Screen:
    """Stands in for Jupyter's display: keeps what was shown and what replaced it."""

    def __init__(self):
        self.shown, self.updates = [], []

    def display(self, obj, display_id=None):
        self.shown.append(obj)
        screen = self

        class Handle:
            def update(self, new):
                screen.updates.append(new)
        return Handle() if display_id else None


@pytest.fixture
def screen(monkeypatch):
    s = _Screen()
    monkeypatch.setattr(IPython.display, "display", s.display)
    return s


def _draw(calls):
    def draw(step, scale):
        calls.append((step, scale))
        fig, ax = plt.subplots()
        ax.plot([0, step], [0, scale])
        return fig
    return draw


def test_draws_the_initial_values_once_and_redraws_when_a_slider_moves(screen):
    calls = []
    assert figure_with_sliders(_draw(calls), step=(0, 5, 1, 2), scale=(0.5, 2.0, 0.1, 1.0)) is None
    box, picture = screen.shown
    step, scale = box.children
    assert isinstance(step, widgets.IntSlider) and isinstance(scale, widgets.FloatSlider)
    assert calls == [(2, 1.0)] and isinstance(picture, plt.Figure)
    assert not plt.fignum_exists(picture.number)      # closed, so Jupyter shows it once
    step.value = 4
    assert calls[-1] == (4, 1.0) and len(screen.updates) == 1


def test_a_malformed_range_is_a_clear_error(screen):
    with pytest.raises(ValueError, match=r"step=.*\(min, max, step, initial\)"):
        figure_with_sliders(_draw([]), step=(0, 5))
    with pytest.raises(ValueError, match="min <= initial <= max"):
        figure_with_sliders(_draw([]), step=(0, 5, 1, 9))
