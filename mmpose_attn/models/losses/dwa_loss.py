"""Dynamic Weight Averaging over several task losses.

Liu et al., "End-to-End Multi-Task Learning with Attention", CVPR 2019, as
used by SG-HRNet (Tang et al., Traitement du Signal 2024, Sec. 3.4,
Eq. 7-10).
"""
from typing import Dict, Sequence

import torch
from mmengine.dist import all_reduce
from torch import Tensor, nn

from mmpose.registry import MODELS
from mmpose.utils.typing import ConfigType
from ..utils import float32_under_autocast


@MODELS.register_module()
class DWALoss(nn.Module):
    """Weights named task losses by Dynamic Weight Averaging (Eq. 8-10).

    At training step ``t`` task ``n`` gets

        w_n(t) = N * exp(r_n(t-1) / T) / sum_m exp(r_m(t-1) / T),
        r_n(t-1) = L_n(t-1) / L_n(t-2),

    so the weights sum to the number of tasks ``N`` and a task whose loss
    falls more slowly gets more weight. ``L_n`` is the task loss as built
    from its config (static factors such as SG-HRNet's lambda included; they
    cancel in the ratio). Before two steps have been seen all weights are 1,
    as in Liu et al. The paper updates per back-propagation (``t`` is "the
    t-th backpropagation"), so the history advances on every training-mode
    call; under distributed training the losses are averaged over ranks
    first so every rank uses the same weights.

    Under autocast (mixed precision) the task losses and the ratios and
    exponentials of Eq. 8-10 run in float32.

    The last two losses and the step count are buffers, hence part of the
    model's ``state_dict``: checkpoints carry them and a resumed run
    continues with the same weights.

    Args:
        losses (dict[str, dict]): Task name -> loss config. ``forward``
            returns ``loss_<name>`` for each.
        temperature (float): ``T``. Eq. 8-9 have none, i.e. ``T = 1``.
    """

    def __init__(self, losses: Dict[str, ConfigType],
                 temperature: float = 1.) -> None:
        super().__init__()
        if not isinstance(losses, dict) or len(losses) < 2:
            raise ValueError(
                f'{type(self).__name__}: `losses` must map at least two task '
                f'names to loss configs, got {losses!r}')
        if not temperature > 0:
            raise ValueError(f'{type(self).__name__}: temperature must be '
                             f'> 0, got {temperature}')
        self.task_names = tuple(losses)
        self.temperature = float(temperature)
        self.losses = nn.ModuleDict(
            {name: MODELS.build(cfg)
             for name, cfg in losses.items()})
        # rows: L(t-1), L(t-2); columns follow ``task_names``
        self.register_buffer('loss_history',
                             torch.ones(2, len(self.task_names)))
        self.register_buffer('num_steps', torch.zeros(()))

    @property
    def task_weights(self) -> Tensor:
        """Weights ``w_n(t)`` for the next step, shape (N, )."""
        n = len(self.task_names)
        ratio = self.loss_history[0] / self.loss_history[1].clamp_min(1e-12)
        dwa = n * torch.softmax(ratio / self.temperature, dim=0)
        return torch.where(self.num_steps >= 2, dwa, torch.ones_like(dwa))

    @float32_under_autocast
    def forward(self, task_inputs: Dict[str, Sequence]) -> Dict[str, Tensor]:
        """Compute each task's loss from its positional arguments, weight it,
        and (in training mode) push the unweighted losses into the history.

        Args:
            task_inputs (dict[str, Sequence]): Task name -> arguments of that
                task's loss module.

        Returns:
            dict: ``loss_<name>`` (weighted loss) and ``dwa_weight_<name>``
            (the detached weight, for logging) for every task.
        """
        if set(task_inputs) != set(self.task_names):
            raise KeyError(
                f'{type(self).__name__}: got inputs for tasks '
                f'{sorted(task_inputs)}, expected {sorted(self.task_names)}')
        values = [
            self.losses[name](*task_inputs[name]) for name in self.task_names
        ]
        weights = self.task_weights
        if self.training:
            self._push(torch.stack([v.detach().float() for v in values]))

        results = {}
        for name, w, v in zip(self.task_names, weights, values):
            results[f'loss_{name}'] = w.to(v.dtype) * v
            results[f'dwa_weight_{name}'] = w.detach()
        return results

    @torch.no_grad()
    def _push(self, values: Tensor) -> None:
        values = values.to(self.loss_history.dtype)
        all_reduce(values, op='mean')
        self.loss_history.copy_(torch.stack([values,
                                             self.loss_history[0]]))
        self.num_steps.add_(1)
