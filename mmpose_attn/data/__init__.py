"""Data that travels with the package, and where generated data goes.

``mmpose_samples/`` holds MMPose's own test data (``tests/data`` of
open-mmlab/mmpose, Apache-2.0; images from COCO val2017, MPII and CrowdPose):
the tiny configs, the tests and the overfit checks read it from here, so they
work from any folder, in editable and regular installs, without ``../shared``.

Generated data (the toy dataset's renders) goes under :func:`cache_root`,
never under the current folder.
"""
import os
import os.path as osp

SAMPLES_ROOT = osp.join(osp.dirname(osp.abspath(__file__)), 'mmpose_samples')

CACHE_ENV = 'MMPOSE_ATTN_CACHE'


def samples_root(subset: str = '') -> str:
    """Folder of the shipped samples, e.g. ``samples_root('coco')``.

    Args:
        subset (str): ``'coco'``, ``'mpii'``, ``'crowdpose'`` or ``''`` for
            the folder holding all three. Default: ``''``.

    Returns:
        str: Absolute path, ending with a separator when ``subset`` is given
        (configs append file names to it).
    """
    path = osp.join(SAMPLES_ROOT, subset, '') if subset else SAMPLES_ROOT
    if not osp.isdir(path):
        raise FileNotFoundError(
            f'{path}: no such sample folder (have: '
            f'{", ".join(sorted(os.listdir(SAMPLES_ROOT)))})')
    return path


def cache_root() -> str:
    """Where generated data is written: ``$MMPOSE_ATTN_CACHE`` when set,
    else ``~/.cache/mmpose_attn``; ``~`` expanded, not created here."""
    return osp.abspath(
        osp.expanduser(
            os.environ.get(CACHE_ENV) or osp.join('~', '.cache',
                                                  'mmpose_attn')))
