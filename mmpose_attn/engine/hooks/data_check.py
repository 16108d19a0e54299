"""Check the data and the input size before the first iteration.

``Runner.train()`` builds the train and val dataloaders (datasets parsed)
and the evaluators, then calls ``before_run``; ``Runner.test()`` and
``Runner.val()`` do the same with theirs. This hook, listed in our configs'
``custom_hooks``, runs there: the checks of
:mod:`mmpose_attn.datasets.data_checks` on every built dataset and metric
(annotation files, samples, image files), and
:func:`~mmpose_attn.models.utils.input_size.check_input_size` on the codec's
and every pipeline's ``input_size`` against the model's backbone. Nothing
is loaded or trained before it.
"""
from typing import Optional

from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmengine.runner import BaseLoop

from mmpose.registry import HOOKS
from mmpose_attn.datasets.data_checks import (CheckReport, check_dataset,
                                              check_evaluator)
from mmpose_attn.models.utils.input_size import check_input_size

# Transforms whose ``input_size`` is the network's input size.
_INPUT_SIZE_TRANSFORMS = ('TopdownAffine', 'BottomupRandomAffine')


@HOOKS.register_module()
class DataCheckHook(Hook):
    """Fail before iteration 1 on bad data or an input size the backbone
    cannot process, with an error naming the file or setting.

    Args:
        check_data (bool): Run the data checks. Default: True.
        check_input_size (bool): Check ``input_size`` settings against the
            backbone. Default: True.
    """

    priority = 'VERY_HIGH'

    def __init__(self, check_data: bool = True, check_input_size: bool = True):
        self.check_data = check_data
        self.check_input_size = check_input_size

    @staticmethod
    def built_loops(runner):
        """``(phase, loop)`` of the loops the runner has built."""
        for phase in ('train', 'val', 'test'):
            loop = getattr(runner, f'_{phase}_loop', None)
            if isinstance(loop, BaseLoop):
                yield phase, loop

    def before_run(self, runner) -> None:
        model = runner.model.module if is_model_wrapper(
            runner.model) else runner.model
        loops = list(self.built_loops(runner))
        if self.check_input_size:
            self.check_model_input_sizes(model, loops)
        if self.check_data:
            report = CheckReport()
            for phase, loop in loops:
                dataset = loop.dataloader.dataset
                check_dataset(dataset, f'{phase}_dataloader.dataset', report)
                evaluator = getattr(loop, 'evaluator', None)
                if evaluator is not None:
                    check_evaluator(evaluator, f'{phase}_evaluator',
                                    getattr(dataset, 'metainfo', None),
                                    report)

    @staticmethod
    def check_model_input_sizes(model, loops) -> None:
        backbone = getattr(model, 'backbone', None)
        if backbone is None:
            return
        decoder = getattr(getattr(model, 'head', None), 'decoder', None)
        size: Optional[tuple] = getattr(decoder, 'input_size', None)
        if size is not None:
            check_input_size(backbone, size,
                             'codec.input_size (model.head.decoder)')
        for phase, loop in loops:
            dataset = loop.dataloader.dataset
            pipeline = getattr(dataset, 'pipeline', None)
            for i, t in enumerate(getattr(pipeline, 'transforms', [])):
                name = type(t).__name__
                where = f'{phase}_dataloader.dataset.pipeline[{i}] ({name})'
                if name in _INPUT_SIZE_TRANSFORMS:
                    check_input_size(backbone, t.input_size,
                                     f'{where}.input_size')
                elif name == 'BottomupResize' and getattr(
                        t, 'resize_mode', None) == 'expand':
                    # pads to a multiple of size_factor
                    factor = t.size_factor
                    check_input_size(backbone, (factor, factor),
                                     f'{where}.size_factor')
                elif name == 'BottomupResize':
                    check_input_size(backbone, t.input_size,
                                     f'{where}.input_size')
