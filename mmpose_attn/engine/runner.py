"""The runner of this package's configs (``runner_type`` in
``configs/_base_/default_runtime.py``), built by ``mim train/test
mmpose_attn`` (:mod:`mmpose_attn.tools.train`/``test``)."""
import datetime
import os
from typing import Any, Dict, Optional

import torch
import torch.distributed as torch_dist
import torch.multiprocessing as mp
from mmengine.dist import is_distributed
from mmengine.runner import Runner
from mmengine.runner.checkpoint import _load_checkpoint_to_model

from mmpose.registry import RUNNERS
from ..datasets.data_checks import check_config_files
from .checkpoint import load_checkpoint_file
from .checkpoint_fit import check_checkpoint_fits, unwrap
from .hooks import WeightsOnlyCheckpointHook


@RUNNERS.register_module()
class PoseAttnRunner(Runner):
    """mmengine's ``Runner`` that loads checkpoints through this package's
    loader and runs ``--launcher pytorch`` without CUDA.

    - ``load_from``, ``--resume`` and ``--checkpoint`` read the file with
      :func:`~mmpose_attn.engine.checkpoint.load_checkpoint_file`: under
      ``torch.load(weights_only=True)``, stock mmengine checkpoints allowed
      by a context manager only around this read; a file that is not a
      checkpoint is an error naming it; another architecture's checkpoint
      is refused (:func:`~mmpose_attn.engine.checkpoint_fit.check_fits`).
    - :class:`~mmpose_attn.engine.hooks.WeightsOnlyCheckpointHook` is
      always registered (a config's ``custom_hooks`` cannot drop it): the
      checkpoints it writes load under the weights-only default anywhere.
    - Without CUDA, ``launcher='pytorch'`` forms the process group itself
      (``gloo`` in place of ``nccl``, which needs GPUs) instead of mmengine's
      ``init_dist``, which binds each rank to a GPU, and wraps the model in
      :class:`~mmpose_attn.engine.model_wrappers.
      AnyDeviceDistributedDataParallel`. With CUDA it runs as mmengine's.
    """

    def setup_env(self, env_cfg: Dict) -> None:
        if self.distributed and self.launcher == 'pytorch' and \
                not torch.cuda.is_available() and not is_distributed():
            self._init_cpu_process_group(dict(env_cfg.get('dist_cfg', {})))
        super().setup_env(env_cfg)

    def _init_cpu_process_group(self, dist_cfg: dict) -> None:
        """mmengine's ``init_dist`` for ``launcher='pytorch'`` less its
        ``torch.cuda.set_device(LOCAL_RANK)``."""
        if mp.get_start_method(allow_none=True) is None:
            mp.set_start_method('spawn')
        backend = dist_cfg.pop('backend', 'gloo')
        if backend == 'nccl':  # MMPose's default; it needs GPUs
            backend = 'gloo'
        if 'timeout' in dist_cfg:
            dist_cfg['timeout'] = datetime.timedelta(
                seconds=dist_cfg['timeout'])
        torch_dist.init_process_group(
            backend=backend,
            rank=int(os.environ['RANK']),
            world_size=int(os.environ['WORLD_SIZE']),
            **dist_cfg)

    def wrap_model(self, model_wrapper_cfg: Optional[Dict],
                   model: torch.nn.Module) -> torch.nn.Module:
        if model_wrapper_cfg is None and self.distributed:
            model_wrapper_cfg = dict(
                type='mmpose.AnyDeviceDistributedDataParallel',
                broadcast_buffers=False,
                find_unused_parameters=self.cfg.get('find_unused_parameters',
                                                    False))
        return super().wrap_model(model_wrapper_cfg, model)

    def register_hooks(self, default_hooks=None, custom_hooks=None) -> None:
        super().register_hooks(default_hooks, custom_hooks)
        if not any(
                isinstance(h, WeightsOnlyCheckpointHook) for h in self.hooks):
            self.register_hook(WeightsOnlyCheckpointHook())

    # MMPose's dataset and metric constructors read the annotation files
    # first: check every file the run will read before they do.
    def train(self):
        check_config_files(self.cfg, phases=('train', 'val'))
        return super().train()

    def val(self):
        check_config_files(self.cfg, phases=('val', ))
        return super().val()

    def test(self):
        check_config_files(self.cfg, phases=('test', ))
        return super().test()

    def load_checkpoint(self,
                        filename: str,
                        map_location: Any = 'cpu',
                        strict: bool = False,
                        revise_keys: list = [(r'^module.', '')]) -> dict:
        """As mmengine's (``after_load_checkpoint`` hooks, then the weights
        into the model), the file read by this package's loader and checked
        against the model first."""
        checkpoint = load_checkpoint_file(filename, map_location)
        check_checkpoint_fits(self.model, checkpoint, filename)
        self.call_hook('after_load_checkpoint', checkpoint=checkpoint)
        checkpoint = _load_checkpoint_to_model(
            unwrap(self.model), checkpoint, strict, revise_keys=revise_keys)
        self._has_loaded = True
        self.logger.info(f'Load checkpoint from {filename}')
        return checkpoint
