import argparse

import cv2
import numpy as np
import pytest
import torch
from torch import nn

from mmpose_attn.tools._visualize_cli import load_model_for, model_image_parser
from mmpose_attn.visualization.panels import (TITLE_HEIGHT, collect_forward,
                                              jet, jet_overlay, titled_panel)


def test_titled_panel_resizes_and_adds_a_white_bar():
    img = np.zeros((10, 30, 3), np.uint8)
    panel = titled_panel(img, 'ab', height=20)
    assert panel.shape == (TITLE_HEIGHT + 20, 60, 3)
    np.testing.assert_array_equal(panel[TITLE_HEIGHT:], 0)
    bar = panel[:TITLE_HEIGHT]
    assert (bar == 255).mean() > 0.9 and bar.min() < 128  # text is drawn
    # no height: the image is kept as is; 1 pixel wide at the least
    np.testing.assert_array_equal(titled_panel(img, '')[TITLE_HEIGHT:], img)
    assert titled_panel(img[:, :1], '', height=2).shape[1] == 1


def test_jet_and_overlay_values():
    blue, red = np.array([128, 0, 0]), np.array([0, 0, 128])  # JET ends
    colors = jet(np.array([[-1., 0., 1., 2.]]))
    np.testing.assert_array_equal(colors[0], [blue, blue, red, red])
    np.testing.assert_array_equal(jet(np.array([[0.5]]))[0, 0],
                                  cv2.applyColorMap(np.uint8([[127]]),
                                                    cv2.COLORMAP_JET)[0, 0])
    img = np.full((1, 2, 3), 100, np.uint8)
    out = jet_overlay(img, np.array([[0., 1.]]), alpha=0.25)
    # round(0.75 * 100 + 0.25 * colour)
    np.testing.assert_array_equal(out[0], [[107, 75, 75], [75, 75, 107]])


def test_collect_forward_keeps_first_calls_and_removes_hook():
    layer = nn.Linear(2, 1)
    with collect_forward(layer, lambda m, i, o: i[0].sum().item(),
                         max_calls=1) as got:
        layer(torch.ones(1, 2))
        layer(torch.full((1, 2), 5.))
    assert got == [2.]
    assert not layer._forward_hooks
    with collect_forward(layer, lambda m, i, o: o.shape) as got:
        layer(torch.ones(3, 2))
        layer(torch.ones(4, 2))
    assert got == [(3, 1), (4, 1)]
    with pytest.raises(RuntimeError):
        with collect_forward(layer, lambda m, i, o: o):
            raise RuntimeError
    assert not layer._forward_hooks


def test_cli_parser_and_checks(tmp_path):
    parser = model_image_parser('d', 'X', 'default.png')
    args = parser.parse_args(['c.py', 'k.pth', 'i.jpg'])
    assert (args.out, args.device) == ('default.png', 'cpu')
    with pytest.raises(SystemExit):  # --out is required without a default
        model_image_parser('d', 'X').parse_args(['c.py', 'k.pth', 'i.jpg'])
    for name in ('c.py', 'k.pth', 'i.jpg'):
        (tmp_path / name).write_text('')
    files = [str(tmp_path / n) for n in ('c.py', 'k.pth', 'i.jpg')]
    for i, kind in enumerate(('config', 'checkpoint', 'image')):
        missing = list(files)
        missing[i] = str(tmp_path / 'missing')
        with pytest.raises(FileNotFoundError, match=f'{kind} file .*missing'):
            load_model_for(argparse.Namespace(
                config=missing[0], checkpoint=missing[1], img=missing[2],
                out='o.png', device='cpu'))
    with pytest.raises(ValueError, match='expected a .png'):
        load_model_for(argparse.Namespace(
            config=files[0], checkpoint=files[1], img=files[2],
            out='o.jpg', device='cpu'))
