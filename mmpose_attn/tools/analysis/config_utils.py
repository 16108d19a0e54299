"""Config loading and offline model building shared by the analysis tools."""
import copy
import importlib.util
import logging
import os.path as osp
from typing import Any, Optional, Tuple, Union

import torch
from mmengine.config import Config
from mmengine.logging import MMLogger
from torch import nn

ConfigLike = Union[str, Config, dict]


def resolve_config_path(path: str) -> str:
    """Resolve ``pkg::rel/path.py`` (e.g. ``mmpose::body_2d_keypoint/...``)
    to the installed package's ``.mim/configs`` (or, for a source checkout
    such as an editable install of this project, ``<repo>/configs``)."""
    if '::' not in path:
        if not osp.isfile(path):
            raise FileNotFoundError(f'config file not found: {path}')
        return path
    package, _, rel = path.partition('::')
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(
            f'config {path}: package "{package}" is not installed')
    pkg_dir = list(spec.submodule_search_locations)[0]
    candidates = [
        osp.join(pkg_dir, '.mim', 'configs', rel),
        osp.join(osp.dirname(pkg_dir), 'configs', rel),
    ]
    for candidate in candidates:
        if osp.isfile(candidate):
            return candidate
    raise FileNotFoundError(f'config {path} not found; looked at '
                            + ', '.join(candidates))


def load_config(config: ConfigLike,
                cfg_options: Optional[dict] = None) -> Config:
    """Load a config from a path, ``pkg::`` path, ``Config`` or dict."""
    if isinstance(config, Config):
        cfg = copy.deepcopy(config)
    elif isinstance(config, dict):
        cfg = Config(config)
    else:
        cfg = Config.fromfile(resolve_config_path(str(config)))
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    if 'model' not in cfg:
        raise KeyError(f'config {config_name(config)} has no `model` field')
    return cfg


def config_name(config: ConfigLike) -> str:
    if isinstance(config, (Config, dict)):
        return getattr(config, 'filename', None) or '<in-memory config>'
    return str(config)


def _is_pretrained(init: Any) -> bool:
    return isinstance(init, dict) and init.get('type') == 'Pretrained'


def drop_pretrained(cfg: Any) -> int:
    """Remove every ``Pretrained`` ``init_cfg`` entry and ``pretrained`` path
    in a (nested) model config in place, so that building and initialising
    the model never downloads. Returns the number of entries removed."""
    dropped = 0
    if isinstance(cfg, dict):
        for key in list(cfg.keys()):
            value = cfg[key]
            if key == 'init_cfg' and _is_pretrained(value):
                cfg[key] = None
                dropped += 1
            elif key == 'init_cfg' and isinstance(value, (list, tuple)):
                kept = [v for v in value if not _is_pretrained(v)]
                dropped += len(value) - len(kept)
                cfg[key] = kept or None
            elif key == 'pretrained' and isinstance(value, str):
                cfg[key] = None
                dropped += 1
            else:
                dropped += drop_pretrained(value)
    elif isinstance(cfg, (list, tuple)):
        dropped += sum(drop_pretrained(v) for v in cfg)
    return dropped


def _size_hw(size: Any) -> Optional[Tuple[int, int]]:
    """MMPose sizes are (w, h); a single int means square."""
    if isinstance(size, int):
        return (size, size)
    if isinstance(size, (list, tuple)) and len(size) == 2:
        return (int(size[1]), int(size[0]))
    return None


def input_hw_of(cfg: Config) -> Tuple[int, int]:
    """The network input (H, W) of a config: the head decoder's (codec's)
    ``input_size``, else the top-level ``codec``, else the ``input_size`` of
    a test/val/train pipeline transform (``TopdownAffine``,
    ``BottomupResize``, ...)."""
    candidates = []
    decoder = cfg.model.get('head', {}) or {}
    decoder = decoder.get('decoder', None)
    codec = cfg.get('codec', None)
    for c in (decoder, codec):
        for item in (c if isinstance(c, (list, tuple)) else [c]):
            if isinstance(item, dict):
                candidates.append(item.get('input_size'))
    for loader in ('test_dataloader', 'val_dataloader', 'train_dataloader'):
        pipeline = cfg.get(loader, {}).get('dataset', {}).get('pipeline', [])
        for transform in pipeline or []:
            if isinstance(transform, dict):
                candidates.append(transform.get('input_size'))
    for size in candidates:
        hw = _size_hw(size)
        if hw is not None:
            return hw
    raise ValueError(
        f'config {cfg.filename}: cannot find the input size (no codec '
        '`input_size` nor a pipeline transform with `input_size`); pass '
        '--input-shape H W')


def build_model(cfg: Config, device: Union[str, torch.device] = 'cpu'
                ) -> nn.Module:
    """Build ``cfg.model`` in MMPose's scope, offline (pretrained weights
    dropped) and initialised with its own ``init_cfg``."""
    import mmpose_attn  # noqa: F401  registers our modules
    from mmengine.registry import init_default_scope
    from mmpose.registry import MODELS
    from mmpose.utils import register_all_modules

    register_all_modules(init_default_scope=False)
    init_default_scope(cfg.get('default_scope', 'mmpose'))
    model_cfg = copy.deepcopy(cfg.model)
    drop_pretrained(model_cfg)
    model = MODELS.build(model_cfg)
    if hasattr(model, 'init_weights'):
        # mmengine prints every parameter's init summary at INFO level.
        logger = MMLogger.get_current_instance()
        level = logger.level
        logger.setLevel(logging.WARNING)
        try:
            model.init_weights()
        finally:
            logger.setLevel(level)
    return model.to(device)
