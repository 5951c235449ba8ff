"""Loss surfaces, optimiser paths and the two sliders of notebook 04 (course_utils.surfaces)."""

from __future__ import annotations

import ipywidgets
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from course_utils import surfaces
from course_utils.gradcheck import numerical_gradient

SURFACES = [surfaces.ravine(), surfaces.ravine(2.0, 30.0), surfaces.banana(), surfaces.banana(100.0),
            surfaces.four_wells(), surfaces.four_wells((0.0, -0.4)), surfaces.saddle()]


def gradient_descent(w, dw, config):
    return w - config["lr"] * dw, config


@pytest.mark.parametrize("surface", SURFACES, ids=lambda s: s.name)
@settings(max_examples=25, deadline=None)
@given(w=st.tuples(st.floats(-2, 2), st.floats(-2, 2)))
def test_gradient_matches_centred_differences(surface, w):
    point = np.array(w)
    numeric = numerical_gradient(lambda v: float(surface(v)), point, h=1e-6)
    np.testing.assert_allclose(surface.grad(point), numeric, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("surface", SURFACES, ids=lambda s: s.name)
def test_functions_are_vectorised_over_leading_axes(surface):
    grid = np.random.default_rng(0).uniform(-1.5, 1.5, size=(4, 5, 2))
    values, grads = surface(grid), surface.grad(grid)
    assert values.shape == (4, 5) and grads.shape == (4, 5, 2)
    np.testing.assert_allclose(values[2, 3], surface(grid[2, 3]))
    np.testing.assert_allclose(grads[1, 4], surface.grad(grid[1, 4]))


@pytest.mark.parametrize("surface", SURFACES, ids=lambda s: s.name)
def test_listed_minima_are_local_minima(surface):
    assert surface.minima
    for m in surface.minima:
        m = np.array(m)
        np.testing.assert_allclose(surface.grad(m), 0.0, atol=1e-9)
        ring = m + 1e-3 * np.stack([np.cos(a := np.linspace(0, 2 * np.pi, 16)), np.sin(a)], axis=1)
        assert np.all(surface(ring) > surface(m))
    assert surface.min_value == pytest.approx(min(float(surface(np.array(m))) for m in surface.minima))


def test_four_wells_has_four_minima_of_different_depths():
    wells = surfaces.four_wells()
    assert len(wells.minima) == 4
    depths = sorted(float(wells(np.array(m))) for m in wells.minima)
    assert len(set(np.round(depths, 6))) == 4


def test_ravine_stability_limit_is_two_over_the_largest_curvature():
    bowl = surfaces.ravine(1.0, 10.0)  # limit 2 / 10 = 0.2
    stable = surfaces.run_rule(bowl, gradient_descent, (-4.0, 1.5), {"lr": 0.19}, steps=200)
    unstable = surfaces.run_rule(bowl, gradient_descent, (-4.0, 1.5), {"lr": 0.21}, steps=200)
    assert len(stable) == 201 and bowl(stable[-1]) < 1e-12
    assert len(unstable) < 201  # stopped once it left the window
    assert np.abs(unstable[-1]).max() > 100 * 5


def test_run_rule_passes_state_and_does_not_touch_the_callers_config():
    seen = []

    def counting(w, dw, config):
        config["calls"] = config.get("calls", 0) + 1
        seen.append(config["calls"])
        return w - config["lr"] * dw, config

    config = {"lr": 0.1}
    path = surfaces.run_rule(surfaces.saddle(), counting, (1.0, 0.5), config, steps=7)
    assert path.shape == (8, 2)
    assert seen == list(range(1, 8))
    assert config == {"lr": 0.1}
    np.testing.assert_allclose(path[0], [1.0, 0.5])


def test_noise_is_seeded_and_tips_gradient_descent_off_a_saddle():
    saddle = surfaces.saddle()
    exact = surfaces.run_rule(saddle, gradient_descent, (1.5, 0.0), {"lr": 0.1}, steps=150)
    np.testing.assert_allclose(exact[-1], [0.0, 0.0], atol=1e-6)  # stuck at the saddle point
    a = surfaces.run_rule(saddle, gradient_descent, (1.5, 0.0), {"lr": 0.1}, steps=150, noise=0.1, seed=4)
    b = surfaces.run_rule(saddle, gradient_descent, (1.5, 0.0), {"lr": 0.1}, steps=150, noise=0.1, seed=4)
    np.testing.assert_array_equal(a, b)
    assert abs(abs(a[-1, 1]) - 1.0) < 0.3  # ended near one of the minima (0, ±1)


def test_plots_return_figures():
    from matplotlib.figure import Figure

    bowl = surfaces.ravine()
    assert isinstance(surfaces.plot_surface(bowl), Figure)
    path = surfaces.run_rule(bowl, gradient_descent, (-4.0, 1.5), {"lr": 0.1}, steps=10)
    fig = surfaces.plot_paths(bowl, {"gd": path, "diverging": path * 1e3})
    assert isinstance(fig, Figure)
    assert [t.get_text() for t in fig.axes[0].get_legend().get_texts()] == ["gd", "diverging"]
    assert surfaces.plot_paths(bowl, {"gd": path}, legend=False).axes[0].get_legend() is None


@pytest.mark.parametrize(("lr", "word"), [(0.01, "too small"), (0.15, "converges"), (0.3, "diverges")])
def test_learning_rate_widget_names_the_regime(lr, word):
    box = surfaces.learning_rate_widget(surfaces.ravine(), gradient_descent, (-4.0, 1.5), lr=0.05,
                                        lr_range=(1e-3, 0.5), steps=50)
    assert isinstance(box, ipywidgets.VBox)
    first = box.image.value
    assert first[:4] == b"\x89PNG"
    box.slider.value = lr
    assert box.slider.value == pytest.approx(lr)
    assert word in box.verdict.value
    assert box.image.value != first
    assert box.path().shape[1] == 2


def test_polynomial_fit_recovers_a_polynomial_and_features_are_legendre():
    x = np.linspace(-1, 1, 40)
    y = 1.0 - 2.0 * x + 0.5 * x**3
    coef = surfaces.fit_polynomial(x, y, 3)
    np.testing.assert_allclose(surfaces.polynomial_features(x, 3) @ coef, y, atol=1e-10)
    features = surfaces.polynomial_features(np.array([0.5]), 2)
    np.testing.assert_allclose(features, [[1.0, 0.5, 0.5 * (3 * 0.25 - 1)]])


def _capacity_data():
    rng = np.random.default_rng(13)  # the data of notebook 04
    truth = lambda x: np.sin(2.5 * x) + 0.5 * x
    x_train, x_val = rng.uniform(-1, 1, size=15), rng.uniform(-1, 1, size=200)
    return (x_train, truth(x_train) + 0.25 * rng.standard_normal(15), x_val,
            truth(x_val) + 0.25 * rng.standard_normal(200), truth)


def test_capacity_errors_training_falls_validation_is_u_shaped():
    x_train, y_train, x_val, y_val, _ = _capacity_data()
    train, val = surfaces.capacity_errors(x_train, y_train, x_val, y_val, range(15))
    assert np.all(np.diff(train) <= 1e-12)  # nested models: training error never rises
    assert train[14] < 1e-20  # 15 points, degree 14: interpolation
    best = int(np.argmin(val))
    assert 2 <= best <= 8
    assert val[0] > 3 * val[best] and val[14] > 3 * val[best]


def test_capacity_widget_labels_the_regimes():
    x_train, y_train, x_val, y_val, truth = _capacity_data()
    box = surfaces.capacity_widget(x_train, y_train, x_val, y_val, max_degree=14, degree=1, truth=truth)
    assert isinstance(box, ipywidgets.VBox)
    assert "underfitting" in box.verdict.value
    box.slider.value = 4
    assert "about right" in box.verdict.value
    box.slider.value = 13
    assert "overfitting" in box.verdict.value
    assert box.image.value[:4] == b"\x89PNG"
