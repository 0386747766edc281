"""Image tiles: layout, padding and normalisation."""

import numpy as np
import pytest

from rbmtut.plotting import tile_images


def test_tiles_are_placed_row_by_row_with_visible_padding():
    images = np.array([[0, 0, 0, 0], [1, 1, 1, 1], [0, 1, 1, 0]], np.float64)  # three 2x2 tiles
    grid = tile_images(images, normalize="none", n_cols=2, pad=1)
    assert grid.shape == (2 * 3 + 1, 2 * 3 + 1)
    np.testing.assert_array_equal(grid[1:3, 1:3], [[0, 0], [0, 0]])
    np.testing.assert_array_equal(grid[1:3, 4:6], [[1, 1], [1, 1]])
    np.testing.assert_array_equal(grid[4:6, 1:3], [[0, 1], [1, 0]])
    # Padding is neither "on" nor "off", so an all-off tile stays visible.
    assert grid[0, 0] == 0.5 and grid[3, 2] == 0.5


def test_each_tile_is_rescaled_and_constant_tiles_are_grey():
    images = np.array([[-2, 0, 2, 4], [3, 3, 3, 3]], np.float64)
    grid = tile_images(images, n_cols=2, pad=0)
    np.testing.assert_allclose(grid[:, :2], [[0, 1 / 3], [2 / 3, 1]])
    np.testing.assert_allclose(grid[:, 2:], 0.5)


def test_bad_tiles_are_rejected():
    with pytest.raises(ValueError, match="square"):
        tile_images(np.zeros((2, 5)))
    with pytest.raises(ValueError, match="non-empty"):
        tile_images(np.zeros((0, 4)))
    with pytest.raises(ValueError, match="normalize"):
        tile_images(np.zeros((1, 4)), normalize="global")
