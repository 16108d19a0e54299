"""The changes ``import mmpose_attn`` makes to MMPose, mmengine and torch.

Each change is a named pair of ``install``/``uninstall`` functions, applied
once at import unless its environment variable is ``0``, and logged once
when applied. :func:`undo_host_changes` restores the host libraries'
originals at run time; :func:`host_changes` lists what is applied.

The changes themselves (``data_checks``, ``checkpoint_guard``, ``cpu_ddp``,
``safe_globals``) are registered in ``mmpose_attn/__init__.py`` and listed in
the README, "Host-library changes".
"""
import logging
import os
from collections import OrderedDict
from typing import Callable, Dict, List, NamedTuple

OFF_VALUES = ('0', 'false', 'off', 'no')


class HostChange(NamedTuple):
    env: str
    summary: str
    install: Callable[[], None]
    uninstall: Callable[[], None]


_REGISTERED: Dict[str, HostChange] = OrderedDict()
_APPLIED: List[str] = []

# On stderr, so that tools whose stdout is their output stay parseable.
logger = logging.getLogger('mmpose_attn')


def _log(message: str) -> None:
    if os.environ.get('RANK', os.environ.get('LOCAL_RANK', '0')) != '0':
        return  # once per job, not once per process
    if not logger.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter('%(message)s'))
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        logger.propagate = False
    logger.info(message)


def register_host_change(name: str, env: str, summary: str,
                         install: Callable[[], None],
                         uninstall: Callable[[], None]) -> None:
    """Declare a change; :func:`apply_host_changes` installs it.

    Args:
        name (str): Short name, e.g. ``'data_checks'``.
        env (str): Environment variable that turns it off when ``0``.
        summary (str): One line for the log: what is changed, in the host's
            terms.
        install (Callable): Applies the change (idempotent).
        uninstall (Callable): Restores the originals (idempotent).
    """
    _REGISTERED[name] = HostChange(env, summary, install, uninstall)


def apply_host_changes() -> List[str]:
    """Install every registered change whose variable is not ``0``, logging
    each once. Returns the names applied by this call."""
    applied = []
    for name, change in _REGISTERED.items():
        if name in _APPLIED:
            continue
        if os.environ.get(change.env, '1').strip().lower() in OFF_VALUES:
            continue
        change.install()
        _APPLIED.append(name)
        applied.append(name)
        _log(f'mmpose_attn: {change.summary} (off: {change.env}=0 or '
             f'mmpose_attn.undo_host_changes({name!r}))')
    return applied


def undo_host_changes(*names: str) -> None:
    """Restore the host libraries' originals for ``names`` (all when none
    are given)."""
    unknown = set(names) - set(_REGISTERED)
    if unknown:
        raise KeyError(f'unknown host change(s) {sorted(unknown)}; known: '
                       f'{list(_REGISTERED)}')
    for name in names or list(_APPLIED):
        if name in _APPLIED:
            _REGISTERED[name].uninstall()
            _APPLIED.remove(name)


def host_changes() -> Dict[str, bool]:
    """Every known change and whether it is applied now."""
    return {name: name in _APPLIED for name in _REGISTERED}
