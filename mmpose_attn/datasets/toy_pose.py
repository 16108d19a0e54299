"""A procedurally generated MPII-16 pose dataset that needs no download.

Each image holds one frontal, articulated figure (limbs as thick coloured
segments with round joints, a grey torso, an elliptic head) on a textured,
noisy background with thin distractor strokes. Pose angles, proportions, body
width (a turned torso), scale, rotation and position are random; every image
is a pure function of ``(seed, split, index)``, so a split is reproducible
from ``seed`` and ``num_samples`` alone.

The split is rendered once to ``{data_root}/{split}-{img_size}px-n{num_samples}
-seed{seed}-v{version}/`` (``data_root`` defaults to ``toy_mpii/`` under
:func:`mmpose_attn.data.cache_root`, never the current folder) in MMPose's
own MPII format, then read by the
unchanged :class:`~mmpose.datasets.MpiiDataset` loader, pipeline and
:class:`~mmpose.evaluation.MpiiPCKAccuracy` metric (real PCKh)::

    images/000000.png ...
    annotations.json  # MMPose's mpii_{train,val}.json format: a list of
                      # {image, center, scale, joints (16x2), joints_vis (16)}
    headboxes.mat     # MPII's mpii_gt_val.mat format: headboxes_src (2x2xN),
                      # pos_gt_src (16x2xN), jnt_missing (16xN)
    spec.json         # generator parameters, checked on load

Conventions, as in MPII: coordinates are 1-based (MATLAB), i.e. the pixel the
joint is drawn at plus one; ``scale`` is the figure's extent / 200 and
``center`` is pre-shifted up by ``15 * scale`` pixels, which MpiiDataset
shifts back down, so the crop is centred on the figure. The head box is the
axis-aligned box of the head ellipse, and MpiiDataset turns it into
``head_size = 0.6 * diagonal`` for PCKh. Rendering happens in a temporary
folder renamed into place, so DDP ranks that build the dataset at once
cannot see a half-written split.

Left and right limbs have different colours (left: warm, red > blue; right:
cool, blue > red), and the figure faces the camera, so its left side is on
the image's right. A horizontal flip therefore puts the *left* labels on
*right*-coloured limbs: the toy configs train without ``RandomFlip`` and test
without ``flip_test`` (tests/test_datasets/test_toy_pose.py pins this).
"""
import json
import os
import os.path as osp
import shutil
import tempfile
from typing import Optional, Tuple

import cv2
import mmpose
import numpy as np
from mmpose.datasets import MpiiDataset
from mmpose.registry import DATASETS
from scipy.io import savemat

from mmpose_attn.data import cache_root

# Bump when the renderer changes: old renders then live in other folders.
GENERATOR_VERSION = 1

_SPLIT_CODES = {'train': 0, 'val': 1, 'test': 2}

# MPII keypoint ids.
R_ANK, R_KNE, R_HIP, L_HIP, L_KNE, L_ANK, PELVIS, THORAX, NECK, HEAD_TOP, \
    R_WRI, R_ELB, R_SHO, L_SHO, L_ELB, L_WRI = range(16)

# (start, end, relative thickness, RGB colour): left warm, right cool.
LIMBS = (
    (R_HIP, R_KNE, 0.070, (40, 180, 130)),
    (R_KNE, R_ANK, 0.055, (120, 50, 230)),
    (L_HIP, L_KNE, 0.070, (210, 40, 110)),
    (L_KNE, L_ANK, 0.055, (235, 215, 40)),
    (R_SHO, R_ELB, 0.055, (40, 70, 235)),
    (R_ELB, R_WRI, 0.045, (40, 200, 240)),
    (L_SHO, L_ELB, 0.055, (230, 50, 40)),
    (L_ELB, L_WRI, 0.045, (245, 160, 30)),
)
# Segment lengths in units of the figure's height.
_LENGTHS = dict(
    torso=0.30, neck=0.05, head=0.20, shoulder=0.12, hip=0.08,
    upper_arm=0.17, forearm=0.16, thigh=0.23, shin=0.22)
_HEAD_WIDTH = 0.42  # half-width of the head ellipse / head length
_SHIFT = 4  # cv2 sub-pixel bits
_MPII_CENTER_SHIFT = 15.  # MpiiDataset moves the centre down 15 * scale px

MPII_METAINFO = osp.join(
    osp.dirname(mmpose.__file__), '.mim', 'configs', '_base_', 'datasets',
    'mpii.py')


def _dir(theta):
    """Unit vector at angle ``theta``: 0 points down (+y), pi/2 to +x, which
    is the left of a figure facing the camera."""
    return np.stack([np.sin(theta), np.cos(theta)], axis=-1)


def sample_pose(rng: np.random.Generator) -> Tuple[np.ndarray, float]:
    """Random MPII-16 joints of a frontal figure of unit height, pelvis at the
    origin, and its head's angle-free length (for the head ellipse).

    Returns:
        tuple: ``(joints (16, 2), head_len)``.
    """
    L = {k: v * rng.uniform(0.9, 1.1) for k, v in _LENGTHS.items()}
    g = rng.uniform(-0.5, 0.5)  # whole-body rotation
    lean = g + rng.uniform(-0.25, 0.25)
    width = rng.uniform(0.55, 1.0)  # a turned torso looks narrower
    up = np.pi
    j = np.zeros((16, 2))
    j[THORAX] = j[PELVIS] + L['torso'] * _dir(up + lean)
    j[NECK] = j[THORAX] + L['neck'] * _dir(up + lean + rng.uniform(-.2, .2))
    j[HEAD_TOP] = j[NECK] + L['head'] * _dir(up + lean +
                                             rng.uniform(-.45, .45))
    for side, sho, elb, wri, hip, kne, ank in (
            (1., L_SHO, L_ELB, L_WRI, L_HIP, L_KNE, L_ANK),
            (-1., R_SHO, R_ELB, R_WRI, R_HIP, R_KNE, R_ANK)):
        j[sho] = j[THORAX] + side * width * L['shoulder'] * _dir(
            np.pi / 2 + lean)
        j[hip] = j[PELVIS] + side * width * L['hip'] * _dir(np.pi / 2 + g)
        arm = g + side * rng.uniform(-0.4, 2.9)
        j[elb] = j[sho] + L['upper_arm'] * _dir(arm)
        j[wri] = j[elb] + L['forearm'] * _dir(arm +
                                              side * rng.uniform(-0.3, 2.3))
        leg = g + side * rng.uniform(-0.3, 1.1)
        j[kne] = j[hip] + L['thigh'] * _dir(leg)
        j[ank] = j[kne] + L['shin'] * _dir(leg +
                                           side * rng.uniform(-1.2, 0.3))
    return j, L['head']


def head_ellipse(joints: np.ndarray, head_len: float):
    """Centre, semi-axes and angle (rad) of the head ellipse spanning upper
    neck to head top, and its axis-aligned box ``[[x1, y1], [x2, y2]]``."""
    center = (joints[NECK] + joints[HEAD_TOP]) / 2
    d = joints[HEAD_TOP] - joints[NECK]
    phi = np.arctan2(d[1], d[0])
    a, b = head_len / 2, head_len * _HEAD_WIDTH
    half = np.array([
        np.hypot(a * np.cos(phi), b * np.sin(phi)),
        np.hypot(a * np.sin(phi), b * np.cos(phi))
    ])
    return center, (a, b), phi, np.stack([center - half, center + half])


def _background(rng: np.random.Generator, size: int) -> np.ndarray:
    """Smooth colour fields at two frequencies, desaturated, plus strokes."""
    layers = [
        cv2.resize(rng.uniform(0, 255, (n, n, 3)).astype(np.float32),
                   (size, size), interpolation=cv2.INTER_CUBIC)
        for n in (3, 12)
    ]
    img = 0.65 * layers[0] + 0.35 * layers[1]
    img = 0.5 * img + 0.5 * img.mean(axis=2, keepdims=True)
    img = np.clip(img, 0, 255).astype(np.uint8)
    for _ in range(rng.integers(3, 9)):
        color = tuple(int(c) for c in rng.integers(0, 256, 3))
        p = (rng.uniform(0, size, 4) * (1 << _SHIFT)).astype(int)
        cv2.line(img, (p[0], p[1]), (p[2], p[3]), color,
                 int(rng.integers(1, 3)), cv2.LINE_AA, _SHIFT)
    return img


def _fix(p):
    """cv2's fixed-point coordinates (``_SHIFT`` fractional bits)."""
    return tuple(int(round(v * (1 << _SHIFT))) for v in p)


def render_toy_pose(rng: np.random.Generator, img_size: int = 128):
    """Render one figure.

    Args:
        rng (np.random.Generator): the only source of randomness.
        img_size (int): side of the square image.

    Returns:
        tuple: ``(img, joints, headbox)``: a BGR ``uint8`` image, the 16 MPII
        joints ``(16, 2)`` in 0-based pixel coordinates (where they are
        drawn), and the head box ``[[x1, y1], [x2, y2]]``.
    """
    joints, head_len = sample_pose(rng)
    _, _, _, box = head_ellipse(joints, head_len)
    pts = np.concatenate([joints, box])
    lo, hi = pts.min(axis=0), pts.max(axis=0)
    extent = (hi - lo).max()
    scale = rng.uniform(0.5, 0.9) * img_size / extent
    margin = 0.04 * scale + 2  # half the thickest limb, plus anti-aliasing
    span = (hi - lo) * scale
    shift = [
        rng.uniform(margin, max(margin, img_size - 1 - margin - s))
        for s in span
    ]
    joints = (joints - lo) * scale + shift
    center, axes, phi, box = head_ellipse(joints, head_len * scale)

    img = _background(rng, img_size)
    jitter = rng.integers(-20, 21, (len(LIMBS), 3))
    skin = tuple(int(c) for c in rng.uniform([40, 90, 150], [120, 170, 235]))
    shirt = tuple(int(c) for c in rng.integers(70, 190) + rng.integers(
        -15, 16, 3))

    def limb(k):
        a, b, thick, rgb = LIMBS[k]
        color = tuple(
            int(c) for c in np.clip(np.array(rgb[::-1]) + jitter[k], 0, 255))
        t = max(2, int(round(thick * scale)))
        cv2.line(img, _fix(joints[a]), _fix(joints[b]), color, t, cv2.LINE_AA,
                 _SHIFT)
        for p in (a, b):
            cv2.circle(img, _fix(joints[p]), int(t / 2 * (1 << _SHIFT)),
                       color, -1, cv2.LINE_AA, _SHIFT)

    for k in range(4):  # legs behind the torso
        limb(k)
    torso = np.stack(
        [joints[L_SHO], joints[R_SHO], joints[R_HIP], joints[L_HIP]])
    cv2.fillPoly(img, [(torso * (1 << _SHIFT)).round().astype(np.int32)],
                 shirt, cv2.LINE_AA, _SHIFT)
    cv2.line(img, _fix(joints[THORAX]), _fix(joints[NECK]), skin,
             max(2, int(round(0.05 * scale))), cv2.LINE_AA, _SHIFT)
    cv2.ellipse(img, _fix(center), _fix(axes), float(np.degrees(phi)), 0, 360,
                skin, -1, cv2.LINE_AA, _SHIFT)
    cv2.ellipse(img, _fix(center), _fix(axes), float(np.degrees(phi)), 0, 360,
                (40, 40, 40), 1, cv2.LINE_AA, _SHIFT)
    for k in range(4, len(LIMBS)):  # arms in front
        limb(k)

    noise = rng.normal(0, 6, img.shape)
    img = np.clip(img + noise, 0, 255).astype(np.uint8)
    return img, joints, box


def split_dirname(split: str, num_samples: int, seed: int,
                  img_size: int) -> str:
    return (f'{split}-{img_size}px-n{num_samples}-seed{seed}'
            f'-v{GENERATOR_VERSION}')


def _spec(split, num_samples, seed, img_size) -> dict:
    return dict(
        split=split,
        num_samples=num_samples,
        seed=seed,
        img_size=img_size,
        generator_version=GENERATOR_VERSION)


def generate_toy_split(out_dir: str, split: str, num_samples: int,
                       seed: int, img_size: int) -> None:
    """Render a split into ``out_dir`` (see the module docstring)."""
    os.makedirs(osp.join(out_dir, 'images'))
    anns, headboxes, joints_all = [], [], []
    for i in range(num_samples):
        rng = np.random.default_rng([seed, _SPLIT_CODES[split], i])
        img, joints, box = render_toy_pose(rng, img_size)
        name = f'{i:06d}.png'
        cv2.imwrite(osp.join(out_dir, 'images', name), img)
        lo = np.minimum(joints.min(axis=0), box[0])
        hi = np.maximum(joints.max(axis=0), box[1])
        scale = (hi - lo).max() * 1.05 / 200
        center = (lo + hi) / 2 + 1
        center[1] -= _MPII_CENTER_SHIFT * scale
        anns.append(
            dict(
                image=name,
                center=center.tolist(),
                scale=float(scale),
                joints=(joints + 1).tolist(),
                joints_vis=[1] * len(joints)))
        headboxes.append(box + 1)
        joints_all.append(joints + 1)
    with open(osp.join(out_dir, 'annotations.json'), 'w') as f:
        json.dump(anns, f)
    savemat(
        osp.join(out_dir, 'headboxes.mat'),
        dict(
            headboxes_src=np.stack(headboxes, axis=-1),
            pos_gt_src=np.stack(joints_all, axis=-1),
            jnt_missing=np.zeros((16, num_samples))))
    with open(osp.join(out_dir, 'spec.json'), 'w') as f:
        json.dump(_spec(split, num_samples, seed, img_size), f)


def ensure_toy_split(data_root: str, split: str, num_samples: int, seed: int,
                     img_size: int) -> str:
    """Render the split unless it is already there; returns its folder name
    (relative to ``data_root``). Safe when several processes race."""
    sub = split_dirname(split, num_samples, seed, img_size)
    final = osp.join(data_root, sub)
    if not osp.isdir(final):
        os.makedirs(data_root, exist_ok=True)
        tmp = tempfile.mkdtemp(prefix=f'.{sub}.', dir=data_root)
        try:
            generate_toy_split(
                osp.join(tmp, 'split'), split, num_samples, seed, img_size)
            try:
                os.rename(osp.join(tmp, 'split'), final)
            except OSError:
                if not osp.isdir(final):  # not another process's render
                    raise
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    spec_file = osp.join(final, 'spec.json')
    expected = _spec(split, num_samples, seed, img_size)
    try:
        with open(spec_file) as f:
            found = json.load(f)
    except (OSError, ValueError) as e:
        raise RuntimeError(f'{spec_file}: unreadable toy dataset spec ({e}); '
                           f'delete {final} to render it again') from e
    if found != expected:
        raise RuntimeError(
            f'{spec_file}: toy dataset spec {found} does not match the '
            f'requested {expected}; delete {final} to render it again')
    return sub


@DATASETS.register_module()
class ToyPoseDataset(MpiiDataset):
    """Procedurally generated MPII-16 figures (see the module docstring),
    rendered on first use and then loaded by MMPose's ``MpiiDataset``.

    In ``test_mode`` the split's ``headboxes.mat`` is passed as MpiiDataset's
    ``headbox_file``, so :class:`~mmpose.evaluation.MpiiPCKAccuracy` gets
    ``head_size`` and reports PCKh.

    The instances carry only ``bbox`` (the figure's square box), not
    MpiiDataset's ``bbox_center``/``bbox_scale``: ``GetBBoxCenterScale``
    derives the same centre and scale from it (``bbox_cs2xyxy`` and
    ``bbox_xyxy2cs`` are inverse), without warning that it reuses them.

    Args:
        data_root (str, optional): folder that holds the rendered splits;
            ``~`` is expanded. Default: None, i.e. ``toy_mpii`` under
            :func:`mmpose_attn.data.cache_root` (``$MMPOSE_ATTN_CACHE``, else
            ``~/.cache/mmpose_attn``).
        split (str): ``'train'``, ``'val'`` or ``'test'``; each draws from its
            own random stream. Default: ``'train'``.
        num_samples (int): number of images (one figure each). Default: 1000.
        seed (int): random seed of the split. Default: 0.
        img_size (int): side of the square images. Default: 128.
        **kwargs: the other arguments of :class:`MpiiDataset` (``pipeline``,
            ``test_mode``, ``indices``, ...). ``ann_file``, ``data_prefix``
            and ``headbox_file`` are set from the split.
    """

    METAINFO: dict = dict(from_file=MPII_METAINFO)
    # its files are rendered when it is built: the config pre-flight of
    # mmpose_attn.datasets.data_checks does not look for them
    generates_files = True

    def __init__(self,
                 data_root: Optional[str] = None,
                 split: str = 'train',
                 num_samples: int = 1000,
                 seed: int = 0,
                 img_size: int = 128,
                 test_mode: bool = False,
                 **kwargs):
        if split not in _SPLIT_CODES:
            raise ValueError(f'ToyPoseDataset: split must be one of '
                             f'{sorted(_SPLIT_CODES)}, got {split!r}')
        if num_samples < 1 or img_size < 32:
            raise ValueError(
                f'ToyPoseDataset: need num_samples >= 1 and img_size >= 32, '
                f'got {num_samples} and {img_size}')
        self.split, self.num_samples, self.seed, self.img_size = \
            split, num_samples, seed, img_size
        data_root = osp.expanduser(data_root) if data_root else osp.join(
            cache_root(), 'toy_mpii')
        sub = ensure_toy_split(data_root, split, num_samples, seed, img_size)
        super().__init__(
            data_root=data_root,
            ann_file=osp.join(sub, 'annotations.json'),
            data_prefix=dict(img=osp.join(sub, 'images', '')),
            headbox_file=osp.join(data_root, sub, 'headboxes.mat')
            if test_mode else None,
            test_mode=test_mode,
            **kwargs)

    def _load_annotations(self):
        data_list, image_list = super()._load_annotations()
        for instance in data_list:
            del instance['bbox_center'], instance['bbox_scale']
        return data_list, image_list
