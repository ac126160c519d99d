"""A figure that follows sliders, for the lecture notebooks.

The figure is always drawn once as a plain image, so a notebook reads the same where no
widget front end exists (nbconvert, nbval, GitHub's viewer). Where widgets run (JupyterLab,
Colab), moving a slider redraws that image in place. ipywidgets, IPython and matplotlib are
imported only when the function runs: the rest of the library needs none of them.
"""


def _close(picture):
    """A matplotlib figure that has been displayed is closed, so Jupyter shows it once."""
    import matplotlib.pyplot as plt
    if isinstance(picture, plt.Figure):
        plt.close(picture)


def _slider(widgets, name, spec):
    try:
        low, high, step, initial = spec
    except (TypeError, ValueError):
        raise ValueError(f"figure_with_sliders: {name}= must be (min, max, step, initial), "
                         f"got {spec!r}") from None
    if not low <= initial <= high or step <= 0:
        raise ValueError(f"figure_with_sliders: {name}={spec!r} needs min <= initial <= max "
                         f"and a positive step")
    integral = all(isinstance(v, int) for v in (low, high, step, initial))
    kind = widgets.IntSlider if integral else widgets.FloatSlider
    return kind(value=initial, min=low, max=high, step=step, description=name,
                continuous_update=False)


def figure_with_sliders(draw, **ranges):
    """Show ``draw(**values)``; each keyword is ``name=(min, max, step, initial)``.

    ``draw`` returns a matplotlib figure or anything else Jupyter can display. Integer
    ranges give integer sliders (for stepping through a sequence). Without ipywidgets only
    the image is shown. Returns nothing, so a notebook cell shows the figure and no repr.
    """
    from IPython.display import display
    try:
        import ipywidgets
    except ImportError:        # no widgets installed: the static figure is all we show
        ipywidgets = None
    sliders = {}
    if ipywidgets is not None:
        sliders = {name: _slider(ipywidgets, name, spec) for name, spec in ranges.items()}
        display(ipywidgets.VBox(list(sliders.values())))
    picture = draw(**{name: spec[3] for name, spec in ranges.items()})
    handle = display(picture, display_id=True)
    _close(picture)

    def redraw(change):
        new_picture = draw(**{name: s.value for name, s in sliders.items()})
        handle.update(new_picture)
        _close(new_picture)

    for slider in sliders.values():
        slider.observe(redraw, names="value")
