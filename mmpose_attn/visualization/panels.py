"""Pieces shared by the attention-map pictures (SIM weights, subspace
attention, SG maps): titled panels, JET overlays and forward-hook capture."""
from contextlib import contextmanager
from typing import Any, Callable, Iterator, List, Optional

import cv2
import numpy as np
from torch import nn

TITLE_HEIGHT = 22


def titled_panel(img: np.ndarray,
                 title: str,
                 height: Optional[int] = None) -> np.ndarray:
    """Put a white title bar of ``TITLE_HEIGHT`` pixels above an image.

    Args:
        img (np.ndarray): BGR uint8 image, ``(H, W, 3)``.
        title (str): Text of the bar (black, left-aligned).
        height (int, optional): Resize the image to this height first,
            keeping its aspect ratio (at least 1 pixel wide); as is when
            None. Default: None.

    Returns:
        np.ndarray: ``(TITLE_HEIGHT + height, W', 3)`` uint8 panel.
    """
    if height is not None:
        width = max(1, round(img.shape[1] * height / img.shape[0]))
        img = cv2.resize(img, (width, height))
    bar = np.full((TITLE_HEIGHT, img.shape[1], 3), 255, np.uint8)
    cv2.putText(bar, title, (4, TITLE_HEIGHT - 7), cv2.FONT_HERSHEY_SIMPLEX,
                0.45, (0, 0, 0), 1, cv2.LINE_AA)
    return np.concatenate([bar, img], axis=0)


def jet(values: np.ndarray) -> np.ndarray:
    """Colour a map with OpenCV's JET colormap (0 blue, 1 red).

    Args:
        values (np.ndarray): ``(H, W)`` map; clipped to [0, 1], then
            quantised to 0..255 by truncation. Must not hold NaN.

    Returns:
        np.ndarray: ``(H, W, 3)`` BGR uint8 colours.
    """
    levels = (np.clip(values, 0, 1) * 255).astype(np.uint8)
    return cv2.applyColorMap(levels, cv2.COLORMAP_JET)


def jet_overlay(img: np.ndarray, values: np.ndarray,
                alpha: float) -> np.ndarray:
    """Blend the :func:`jet` colours of a map over an image of its size.

    Args:
        img (np.ndarray): ``(H, W, 3)`` BGR uint8 image.
        values (np.ndarray): ``(H, W)`` map in [0, 1].
        alpha (float): Opacity of the colours (``cv2.addWeighted``,
            rounded and saturated).

    Returns:
        np.ndarray: ``(H, W, 3)`` BGR uint8 overlay.
    """
    return cv2.addWeighted(img, 1 - alpha, jet(values), alpha, 0)


@contextmanager
def collect_forward(module: nn.Module,
                    fn: Callable[[nn.Module, tuple, Any], Any],
                    max_calls: Optional[int] = None) -> Iterator[List[Any]]:
    """Register a forward hook on ``module`` for the ``with`` block and
    collect ``fn(module, inputs, output)`` of its calls; the hook is removed
    on exit, also on error.

    Args:
        module (nn.Module): The module to watch.
        fn (Callable): Maps one call's ``(module, inputs, output)`` to what
            is kept (detach tensors there so no graph is held).
        max_calls (int, optional): Keep only the first ``max_calls`` calls
            (``fn`` is not run for later ones), e.g. 1 to skip the flipped
            pass of flip test; all when None. Default: None.

    Yields:
        list: The collected values, filled as the module runs.
    """
    collected = []

    def _hook(mod, inputs, output):
        if max_calls is None or len(collected) < max_calls:
            collected.append(fn(mod, inputs, output))

    handle = module.register_forward_hook(_hook)
    try:
        yield collected
    finally:
        handle.remove()
