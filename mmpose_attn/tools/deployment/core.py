"""The shared core of the ONNX deployment tools: load a config and
checkpoint, export the network that inference runs, run the file in ONNX
Runtime inside the config's own predict path (preprocessing, flip test,
decoding) and compare it with PyTorch.

What is exported is ``head.forward(extract_feat(inputs))`` (backbone + neck +
head), reduced to the tensors the head's decoder reads:

- top-down heads: ``heatmaps`` (B, K, h, w); of a multi-stack head
  (:class:`~mmpose.models.heads.CPMHead` and its subclasses) the last stack,
  which its ``predict`` decodes;
- bottom-up DEKR-style heads (DEKR, SAMKR): ``heatmaps`` (B, K + 1, h, w,
  the keypoint heatmaps and the centre heatmap) and ``displacements``
  (B, 2K, h, w).

The input is ``input`` (B, 3, H, W), already normalised by the config's
data preprocessor. The batch axis is dynamic by default; bottom-up models
also get dynamic height and width, since their test pipeline keeps each
image's aspect ratio.
"""
import contextlib
import copy
import os.path as osp
import re
import sys
import types
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch
from torch import Tensor, nn

EXTRA = 'deploy'
INSTALL_HINT = (f"install the '{EXTRA}' extra: pip install -e '.[{EXTRA}]' "
                '(make setup installs it)')
INPUT_NAME = 'input'
STANDARD_DOMAINS = ('', 'ai.onnx')
# opset of ONNX's DeformConv; GridSample is standard from opset 16
DEFORM_CONV_OPSET = 19
DEFAULT_OPSET = 17


def require_onnx():
    """Import ``onnx`` and ``onnxruntime``, or say which extra has them."""
    try:
        import onnx
        import onnxruntime
    except ImportError as e:
        raise ImportError(f'the ONNX deployment tools need onnx and '
                          f'onnxruntime ({e}); {INSTALL_HINT}') from e
    return onnx, onnxruntime


CLI_ERRORS = (FileNotFoundError, FileExistsError, ImportError, ValueError,
              RuntimeError, NotImplementedError)


def run_cli(main, argv=None) -> int:
    """Run a tool's ``main``; its expected errors end it with the message
    (no traceback) and exit status 2."""
    try:
        return main(argv)
    except CLI_ERRORS as e:
        print(f'error: {e}', file=sys.stderr)
        return 2


# ----------------------------------------------------------------- loading
def load_config(config: str, cfg_options: Optional[dict] = None):
    """Read ``config`` (a path), with a clear error when it is not one."""
    from mmengine.config import Config
    if not osp.isfile(config):
        raise FileNotFoundError(f'config {config} does not exist')
    cfg = Config.fromfile(config)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    if 'model' not in cfg:
        raise ValueError(f'config {config} defines no `model`')
    return cfg


def load_model(config,
               checkpoint: Optional[str] = None,
               device: str = 'cpu',
               cfg_options: Optional[dict] = None) -> nn.Module:
    """Build the config's pose estimator in eval mode (no pretrained
    download) and load ``checkpoint`` strictly: a checkpoint of another
    architecture is an error that names both files. ``checkpoint=None``
    keeps the random initialisation (tests)."""
    from mmpose.apis import init_model
    cfg = load_config(config, cfg_options) if isinstance(config,
                                                         str) else config
    name = getattr(cfg, 'filename', None) or config
    try:
        model = init_model(cfg, checkpoint=None, device=device)
    except Exception as e:
        raise RuntimeError(f'config {name}: building its model failed: '
                           f'{type(e).__name__}: {e}') from e
    if checkpoint is not None:
        meta = load_checkpoint_strict(model, checkpoint, name)
        if 'dataset_meta' in meta:
            model.dataset_meta = meta['dataset_meta']
    model.eval()
    return model


def load_checkpoint_strict(model: nn.Module, checkpoint: str,
                           config_name: str) -> dict:
    """Load ``checkpoint`` into ``model``; every parameter and buffer must
    match (``num_batches_tracked`` aside). Returns the checkpoint's meta."""
    from mmengine.runner.checkpoint import CheckpointLoader
    if not osp.isfile(checkpoint):
        raise FileNotFoundError(f'checkpoint {checkpoint} does not exist')
    ckpt = CheckpointLoader.load_checkpoint(checkpoint, map_location='cpu')
    state = ckpt.get('state_dict', ckpt) if isinstance(ckpt, dict) else None
    if not isinstance(state, dict):
        raise ValueError(f'checkpoint {checkpoint} holds no state dict')
    state = {re.sub(r'^module\.', '', k): v for k, v in state.items()}
    model_types = ', '.join(
        type(m).__name__ for m in (getattr(model, 'backbone', None),
                                   getattr(model, 'neck', None),
                                   getattr(model, 'head', None)) if m)
    what = (f'checkpoint {checkpoint} is not a checkpoint of the model of '
            f'config {config_name} ({model_types})')
    try:
        result = model.load_state_dict(state, strict=False)
    except RuntimeError as e:  # shape mismatches
        raise ValueError(f'{what}: {e}') from None
    missing = [
        k for k in result.missing_keys
        if not k.endswith('num_batches_tracked')
    ]
    unexpected = list(result.unexpected_keys)
    if missing or unexpected:
        raise ValueError(
            f'{what}: {len(missing)} of the model\'s parameters/buffers are '
            f'not in it (e.g. {missing[:3]}), {len(unexpected)} of its keys '
            f'are not in the model (e.g. {unexpected[:3]})')
    return ckpt.get('meta', {}) or {}


# --------------------------------------------------------------- exporting
def is_bottomup(model: nn.Module) -> bool:
    from mmpose.models.pose_estimators import BottomupPoseEstimator
    return isinstance(model, BottomupPoseEstimator)


def output_names(model: nn.Module) -> Tuple[str, ...]:
    """Names of the exported outputs (see the module docstring)."""
    if is_bottomup(model):
        from mmpose.models.heads import DEKRHead
        if not isinstance(model.head, DEKRHead):
            raise NotImplementedError(
                f'export of bottom-up head {type(model.head).__name__}: only '
                'DEKR-style heads (heatmaps + displacements) are supported')
        return ('heatmaps', 'displacements')
    return ('heatmaps', )


def _to_outputs(model: nn.Module, out) -> Tuple[Tensor, ...]:
    """``head.forward``'s result -> the tensors the decoder reads."""
    if isinstance(out, Tensor):
        return (out, )
    if is_bottomup(model):
        return tuple(out)
    from mmpose.models.heads import CPMHead
    if isinstance(out, (list, tuple)) and isinstance(model.head, CPMHead):
        return (out[-1], )  # CPMHead.predict decodes the last stack
    raise NotImplementedError(
        f'export of head {type(model.head).__name__}: its forward returns '
        f'{type(out).__name__}, not heatmaps')


def _from_outputs(model: nn.Module, outputs: Sequence[Tensor]):
    """The inverse of :func:`_to_outputs`: what ``head.forward`` returns,
    for the head's own ``predict``."""
    if is_bottomup(model):
        return tuple(outputs)
    from mmpose.models.heads import CPMHead
    if isinstance(model.head, CPMHead):
        return [outputs[0]]
    return outputs[0]


class ExportedNetwork(nn.Module):
    """``head.forward(extract_feat(input))`` as the exported tensors.

    Args:
        model (nn.Module): An MMPose pose estimator.
    """

    def __init__(self, model: nn.Module):
        super().__init__()
        self.model = model

    def forward(self, inputs: Tensor) -> Tuple[Tensor, ...]:
        # the classes' methods: :func:`network_replaced` may have replaced
        # the instances' own
        model, head = self.model, self.model.head
        feats = type(model).extract_feat(model, inputs)
        return _to_outputs(model, type(head).forward(head, feats))


def deform_convs(model: nn.Module) -> List[Tuple[str, nn.Module]]:
    """The model's deformable convolutions (``DeformConv2d``), by name."""
    from mmcv.ops import DeformConv2d as MMCVDeformConv2d
    return [(n, m) for n, m in model.named_modules()
            if isinstance(m, MMCVDeformConv2d)]


def use_standard_deform_convs(model: nn.Module, onnx_op: str) -> int:
    """Make every deformable convolution export as ``onnx_op``: mmcv's own
    :class:`~mmcv.ops.DeformConv2d` (MMPose's DEKR head), which exports as
    mmcv's custom operator, is replaced by this package's subclass with the
    same weights; this package's convolutions get ``onnx_op``. Returns the
    number of deformable convolutions."""
    from mmpose_attn.models.utils import DeformConv2d
    convs = deform_convs(model)
    for name, conv in convs:
        if not isinstance(conv, DeformConv2d):
            ours = DeformConv2d(
                conv.in_channels, conv.out_channels, conv.kernel_size,
                stride=conv.stride, padding=conv.padding,
                dilation=conv.dilation, groups=conv.groups,
                deform_groups=conv.deform_groups, bias=False,
                onnx_op=onnx_op)
            ours.load_state_dict(conv.state_dict())
            parent, _, attr = name.rpartition('.')
            setattr(model.get_submodule(parent) if parent else model, attr,
                    ours.to(conv.weight.device))
        else:
            conv.onnx_op = onnx_op
    return len(convs)


def _concat_traced_size(neck, inputs: Sequence[Tensor]) -> List[Tensor]:
    """:meth:`FeatureMapProcessor._concat` (bilinear resize of every map to
    the first one's size, then concatenation) without MMPose's ``resize``,
    which turns the size into Python ints: the exported graph keeps the
    size as a function of the input, so a bottom-up export with dynamic
    height and width resizes to the right size at every input size."""
    size = inputs[0].shape[-2:]
    return [
        torch.cat([
            torch.nn.functional.interpolate(
                x, size=size, mode='bilinear',
                align_corners=neck.align_corners) for x in inputs
        ], dim=1)
    ]


def _offset_conv_weights(block) -> Tuple[Tensor, Tensor]:
    """DEKR's adaptive block computes its deformable offsets as a 3x3 conv
    to an affine matrix A (2 x 3 per group), then ``A @ regular_matrix``
    (3 x 9) with permutes and transposes around it: a linear map of the
    conv's output, i.e. one 3x3 conv with composed weights. Offset channel
    ``18 g + 2 k + r`` is ``sum_c R[c, k] * A[6 g + 3 r + c]``."""
    conv = block.transform_matrix_conv
    groups = block.groups
    weight = conv.weight.view(groups, 2, 3, *conv.weight.shape[1:])
    bias = conv.bias.view(groups, 2, 3)
    regular = block.regular_matrix  # (3, 9)
    # (G, 2, 3, ...) x (3, 9) -> (G, 9, 2, ...): channel order (k, r)
    weight = torch.einsum('grc...,ck->gkr...', weight, regular)
    bias = torch.einsum('grc,ck->gkr', bias, regular)
    return (weight.reshape(groups * 18, *conv.weight.shape[1:]),
            bias.reshape(groups * 18))


def _adaptive_block_forward(block, x: Tensor) -> Tensor:
    """:meth:`AdaptiveActivationBlock.forward` with the offsets from one
    conv (:func:`_offset_conv_weights`): no 6-D permutes in the graph."""
    weight, bias = block._export_offset_weights
    conv = block.transform_matrix_conv
    offset = torch.nn.functional.conv2d(
        x, weight, bias, conv.stride, conv.padding, conv.dilation,
        conv.groups)
    out = block.norm(block.adapt_conv(x, offset))
    return block.act(out + x)


def _sim_distribute(neck, xs: Tensor) -> Tuple[Tensor, Optional[Tensor]]:
    """SPCNet's SIM attention fusion (Eq. 4), ``sum_l A_l * X_l``, as a
    broadcast product and a sum instead of ``einsum('blhw,blchw->bchw')``,
    which ONNX Runtime runs as an ``Einsum`` node with its own transposes
    (19% of SPCNet's tiny model at batch 8, profile)."""
    from mmpose_attn.models.necks.selective_information import \
        selection_weights
    weights = selection_weights(neck.squeeze(xs.sum(dim=1)))
    return (weights.unsqueeze(2) * xs).sum(dim=1), weights


@contextlib.contextmanager
def export_friendly(model: nn.Module):
    """Within the block, modules whose PyTorch code exports badly use an
    equivalent formulation (the same function up to float rounding):

    - MMPose's :class:`FeatureMapProcessor` (DEKR's and SAMKR's neck) turns
      the resize target into Python ints, which would fix the traced input
      size in the graph (:func:`_concat_traced_size`);
    - DEKR's adaptive activation block (DEKR, SAMKR) builds its offsets
      with 6-D permutes, which ONNX Runtime runs as slow ``Transpose``
      nodes (over half of DEKR's time at batch 8): one conv with composed
      weights instead (:func:`_offset_conv_weights`);
    - SPCNet's SIM attention fusion as a product and a sum, not an
      ``Einsum`` (:func:`_sim_distribute`).
    """
    from mmpose.models.heads.hybrid_heads.dekr_head import \
        AdaptiveActivationBlock
    from mmpose.models.necks import FeatureMapProcessor
    necks = [m for m in model.modules() if isinstance(m, FeatureMapProcessor)]
    blocks = [
        m for m in model.modules() if isinstance(m, AdaptiveActivationBlock)
    ]
    for neck in necks:
        neck._concat = types.MethodType(_concat_traced_size, neck)
    sims = [
        m for m in model.modules()
        if type(m).__name__ == 'SelectiveInformationModule'
        and getattr(m, 'fusion', None) == 'attention'
    ]
    for sim in sims:
        sim.distribute = types.MethodType(_sim_distribute, sim)
    for block in blocks:
        with torch.no_grad():
            block._export_offset_weights = _offset_conv_weights(block)
        block.forward = types.MethodType(_adaptive_block_forward, block)
    try:
        yield
    finally:
        for neck in necks:
            del neck._concat
        for sim in sims:
            del sim.distribute
        for block in blocks:
            del block.forward
            del block._export_offset_weights


def non_standard_ops(onnx_model) -> List[str]:
    """``domain::op`` of every node outside ONNX's standard domain."""
    found = []
    graphs = [onnx_model.graph]
    while graphs:
        graph = graphs.pop()
        for node in graph.node:
            if node.domain not in STANDARD_DOMAINS:
                found.append(f'{node.domain}::{node.op_type}')
            for attr in node.attribute:
                if attr.g and attr.g.node:
                    graphs.append(attr.g)
    return sorted(set(found))


def _locate_operator(network: nn.Module, example: Tensor,
                     op: str) -> List[str]:
    """Modules (dotted names, innermost) that call the operator ``op``
    (e.g. ``aten::special_i0e``) in an eager run of ``network``."""
    from torch.utils._python_dispatch import TorchDispatchMode
    names = {m: re.sub(r'^model\.?', '', n)
             for n, m in network.named_modules()}
    stack, found = [], []

    class Spy(TorchDispatchMode):

        def __torch_dispatch__(self, func, types, args=(), kwargs=None):
            if func._schema.name == op and stack and stack[-1] not in found:
                found.append(stack[-1])
            return func(*args, **(kwargs or {}))

    handles = []
    for module in names:
        handles.append(module.register_forward_pre_hook(
            lambda m, args: stack.append(names[m])))
        handles.append(module.register_forward_hook(
            lambda m, args, out: stack.pop()))
    try:
        with torch.no_grad(), Spy():
            network(example)
    except Exception:
        pass
    finally:
        for handle in handles:
            handle.remove()
    return found


def export(model: nn.Module,
           out: str,
           input_size: Optional[Tuple[int, int]] = None,
           opset: Optional[int] = None,
           dynamic_batch: bool = True,
           deform_conv_op: str = 'DeformConv',
           simplify: bool = False,
           batch_size: int = 1,
           names: Optional[Sequence[str]] = None) -> dict:
    """Export ``model``'s inference network to ``out``.

    Args:
        model (nn.Module): A pose estimator in eval mode (it is modified in
            place only where mmcv's deformable convolutions are swapped for
            this package's, with the same weights).
        out (str): The ONNX file.
        input_size (tuple[int, int], optional): Traced (H, W). Defaults to
            the codec's ``input_size`` (given as (w, h) there).
        opset (int, optional): ONNX opset. Defaults to 19 where a
            deformable convolution exports as ``DeformConv``, 17 otherwise.
        dynamic_batch (bool): A dynamic batch axis. Defaults to True.
        deform_conv_op (str): ``'DeformConv'`` or ``'GridSample'``.
        simplify (bool): Run ``onnxslim`` over the exported graph.
        batch_size (int): Traced batch size.
        names (Sequence[str], optional): Output names in place of
            :func:`output_names` (e.g. ``['output']``, the name MMDeploy's
            SDK decodes top-down heatmaps from).

    Returns:
        dict: ``path``, ``opset``, ``input_size``, ``outputs`` (names),
        ``dynamic_axes``, ``ops`` (operator types used).
    """
    onnx, _ = require_onnx()
    num_deform = use_standard_deform_convs(model, deform_conv_op)
    needs = 16 if deform_conv_op == 'GridSample' else DEFORM_CONV_OPSET
    if opset is None:
        opset = needs if num_deform else DEFAULT_OPSET
        opset = max(opset, DEFAULT_OPSET)
    if num_deform and opset < needs:
        raise ValueError(
            f'opset {opset}: the model has {num_deform} deformable '
            f'convolution(s), which export as ONNX {deform_conv_op} from '
            f'opset {needs}; pass --opset {needs} or higher')
    if input_size is None:
        input_size = input_size_of(model)
    h, w = input_size
    default_names = output_names(model)
    names = tuple(names or default_names)
    if len(names) != len(default_names):
        raise ValueError(f'{len(names)} output names {list(names)} for the '
                         f'{len(default_names)} outputs {list(default_names)}')
    dynamic_axes = {}
    if dynamic_batch or is_bottomup(model):
        spatial = {2: 'height', 3: 'width'} if is_bottomup(model) else {}
        batch = {0: 'batch'} if dynamic_batch else {}
        dynamic_axes = {
            n: {**batch, **spatial}
            for n in (INPUT_NAME, ) + names
        }
        dynamic_axes = {k: v for k, v in dynamic_axes.items() if v}
    network = ExportedNetwork(model).eval()
    example = torch.randn(batch_size, 3, h, w,
                          device=next(model.parameters()).device)
    try:
        with torch.no_grad(), export_friendly(model):
            torch.onnx.export(
                network, (example, ),
                out,
                dynamo=False,
                opset_version=opset,
                input_names=[INPUT_NAME],
                output_names=list(names),
                dynamic_axes=dynamic_axes or None,
                do_constant_folding=True)
    except Exception as e:
        msg = str(e).splitlines()[0] if str(e) else type(e).__name__
        ops = re.findall(r'\b([a-z_]+::[A-Za-z0-9_.]+)', str(e))
        where = ''
        if ops:
            modules = _locate_operator(network, example, ops[0])
            if modules:
                where = (f' (operator {ops[0]} comes from module(s) '
                         f'{", ".join(repr(m) for m in modules)})')
            else:
                where = f' (operator {ops[0]})'
        raise RuntimeError(
            f'ONNX export (opset {opset}) failed{where}: {msg}') from e
    if simplify:
        import onnxslim
        onnx.save(onnxslim.slim(onnx.load(out)), out)
    onnx_model = onnx.load(out)
    onnx.checker.check_model(onnx_model)
    custom = non_standard_ops(onnx_model)
    if custom:
        raise RuntimeError(f'{out}: the export holds non-standard operators '
                           f'{custom}; ONNX Runtime and other runtimes need '
                           'custom-op libraries for them')
    return dict(
        path=out,
        opset=opset,
        input_size=(h, w),
        outputs=names,
        dynamic_axes=dynamic_axes,
        ops=sorted({n.op_type
                    for n in onnx_model.graph.node}))


def input_size_of(model: nn.Module) -> Tuple[int, int]:
    """(H, W) of the codec (``head.decoder.input_size`` is (w, h))."""
    decoder = getattr(model.head, 'decoder', None)
    size = getattr(decoder, 'input_size', None)
    if size is None:
        raise ValueError('the head has no decoder with an input_size: pass '
                         '--input-size H W')
    return int(size[1]), int(size[0])


# ------------------------------------------------------------ ONNX Runtime
def ort_session(path: str, threads: Optional[int] = None,
                profile: Optional[str] = None):
    """A CPU ONNX Runtime session (``threads`` intra-op threads)."""
    _, ort = require_onnx()
    options = ort.SessionOptions()
    if threads:
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
    if profile:
        options.enable_profiling = True
        options.profile_file_prefix = profile
    return ort.InferenceSession(
        path, options, providers=['CPUExecutionProvider'])


def run_session(session, inputs: Tensor) -> List[Tensor]:
    """Run ``session`` on a batch; torch tensors out, in output order."""
    feed = {session.get_inputs()[0].name: inputs.detach().cpu().numpy()}
    return [torch.from_numpy(o) for o in session.run(None, feed)]


@contextlib.contextmanager
def network_replaced(model: nn.Module, network: Callable):
    """Within the block, ``model``'s network is ``network`` (input batch ->
    the exported tensors, e.g. :func:`session_network`):
    ``extract_feat`` passes the input through and ``head.forward`` runs
    ``network``; the head's ``predict`` (flip test: one more run on the
    flipped input), decoding and ``add_pred_to_datasample`` stay the
    config's own. Every call's outputs are appended to the yielded list."""
    calls = []
    device = next(model.parameters()).device

    def head_forward(inputs):
        outputs = [o.to(device) for o in network(inputs)]
        calls.append(outputs)
        return _from_outputs(model, outputs)

    model.extract_feat = lambda inputs: inputs
    model.head.forward = head_forward
    try:
        yield calls
    finally:
        del model.extract_feat
        del model.head.forward


def session_network(session) -> Callable:
    """An ONNX Runtime session as a network for :func:`network_replaced`."""
    return lambda inputs: run_session(session, inputs)


# ------------------------------------------------------------ sample data
def samples_root() -> str:
    """The COCO/MPII/CrowdPose samples: /work/shared's copy where present,
    else the package's (``mmpose_attn/data/mmpose_samples``)."""
    import mmpose_attn
    shared = '/work/shared/data/mmpose_samples'
    if osp.isdir(shared):
        return shared
    return osp.join(osp.dirname(mmpose_attn.__file__), 'data',
                    'mmpose_samples')


# COCO sample 000000196141: four annotated people (x, y, w, h)
SAMPLE_IMAGE = 'coco/000000196141.jpg'
SAMPLE_BBOXES = np.array(
    [[248, 74, 170, 301], [454, 207, 177, 211], [556, 100, 48, 113],
     [36, 68, 30, 96]],
    dtype=np.float32)


def prepare_batch(model: nn.Module,
                  images: Sequence[np.ndarray],
                  bboxes: Optional[Sequence[np.ndarray]] = None):
    """The config's test pipeline and data preprocessor on ``images``
    (BGR arrays), with one (x, y, w, h) box per image for top-down models
    (default: the whole image). Returns ``(inputs, data_samples)``."""
    from mmengine.dataset import Compose, pseudo_collate
    from mmengine.registry import init_default_scope
    init_default_scope(model.cfg.get('default_scope', 'mmpose'))
    pipeline = Compose(model.cfg.test_dataloader.dataset.pipeline)
    data = []
    for i, img in enumerate(images):
        info = dict(img=img)
        if not is_bottomup(model):
            h, w = img.shape[:2]
            x, y, bw, bh = (bboxes[i] if bboxes is not None else
                            (0, 0, w, h))
            info['bbox'] = np.array([[x, y, x + bw, y + bh]],
                                    dtype=np.float32)
            info['bbox_score'] = np.ones(1, dtype=np.float32)
        info.update(model.dataset_meta)
        data.append(pipeline(info))
    batch = model.data_preprocessor(pseudo_collate(data), False)
    return batch['inputs'], batch['data_samples']


def verification_batches(model: nn.Module,
                         batch_sizes=(1, 4)) -> Dict[int, list]:
    """Images (and boxes) of the real sample at each batch size: top-down
    models get the sample's first 1 or 4 annotated people; bottom-up models
    the image, then its mirror images (same size, other content)."""
    import mmcv
    img = mmcv.imread(osp.join(samples_root(), SAMPLE_IMAGE))
    variants = [img, img[:, ::-1], img[::-1], img[::-1, ::-1]]
    batches = {}
    for n in batch_sizes:
        if is_bottomup(model):
            batches[n] = ([np.ascontiguousarray(variants[i % 4])
                           for i in range(n)], None)
        else:
            boxes = [SAMPLE_BBOXES[i % len(SAMPLE_BBOXES)] for i in range(n)]
            batches[n] = ([img] * n, boxes)
    return batches


def keypoint_distance(a, b) -> float:
    """Largest |difference| (px) of two predictions' keypoints (N, K, 2);
    people matched one to one (Hungarian, mean distance) when bottom-up
    decoding orders them differently; ``inf`` if their numbers differ."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        return float('inf')
    if a.size == 0:
        return 0.0
    if len(a) > 1:
        from scipy.optimize import linear_sum_assignment
        cost = np.linalg.norm(a[:, None] - b[None], axis=-1).mean(-1)
        rows, cols = linear_sum_assignment(cost)
        a, b = a[rows], b[cols]
    return float(np.abs(a - b).max())


def _predict(model: nn.Module, network: Callable, inputs: Tensor,
             samples: list, flip_test: Optional[bool] = None):
    """``model.predict`` with ``network`` as the network (optionally
    without the config's flip test). Returns (outputs of the first,
    unflipped run, keypoints of each sample)."""
    test_cfg = model.test_cfg
    if flip_test is not None:
        model.test_cfg = dict(test_cfg, flip_test=flip_test)
    try:
        with torch.no_grad(), network_replaced(model, network) as calls:
            preds = model.predict(inputs, copy.deepcopy(samples))
    finally:
        model.test_cfg = test_cfg
    return calls[0], [p.pred_instances.keypoints for p in preds]


def verify(model: nn.Module,
           path: str,
           batch_sizes=(1, 4),
           threads: Optional[int] = None) -> dict:
    """PyTorch and ONNX Runtime on the real sample at each batch size.

    Keypoints are those of the config's own ``predict`` (flip test
    included where the config asks for it), in image pixels. DEKR-style
    heads predict one image at a time: at batch 1 the bottom-up models run
    ``predict`` as configured; at larger batches the network runs once on
    the whole batch and each image's people are decoded from its slice of
    the outputs (without flip test, which would need another batch run).

    Returns:
        dict: ``batches`` ({batch size: {'output': max |diff|,
        'keypoints': max |diff| px}}) and the overall ``output`` and
        ``keypoints`` maxima.
    """
    session = ort_session(path, threads)
    networks = dict(torch=ExportedNetwork(model).eval(),
                    onnx=session_network(session))
    report = {}
    for n, (images, bboxes) in verification_batches(model,
                                                    batch_sizes).items():
        inputs, samples = prepare_batch(model, images, bboxes)
        outputs, keypoints = {}, {}
        for name, network in networks.items():
            if n == 1 or not is_bottomup(model):
                outputs[name], keypoints[name] = _predict(
                    model, network, inputs, samples)
                continue
            with torch.no_grad():
                outputs[name] = [o.cpu() for o in network(inputs)]
            keypoints[name] = []
            for i in range(n):
                cached = [o[i:i + 1] for o in outputs[name]]
                keypoints[name] += _predict(
                    model, lambda x: cached, inputs[i:i + 1],
                    samples[i:i + 1], flip_test=False)[1]
        out_diff = max(
            float((r.cpu() - g.cpu()).abs().max()) if r.shape == g.shape
            else float('inf')  # e.g. a traced size baked into the graph
            for r, g in zip(outputs['torch'], outputs['onnx']))
        kpt_diff = max(
            keypoint_distance(a, b)
            for a, b in zip(keypoints['torch'], keypoints['onnx']))
        report[n] = dict(output=out_diff, keypoints=kpt_diff)
    return dict(
        batches=report,
        output=max(r['output'] for r in report.values()),
        keypoints=max(r['keypoints'] for r in report.values()))


OUTPUT_TOLERANCE = 1e-4
KEYPOINT_TOLERANCE_PX = 0.5


def verify_passed(report: dict) -> bool:
    return (report['output'] <= OUTPUT_TOLERANCE
            and report['keypoints'] <= KEYPOINT_TOLERANCE_PX)


def verify_line(report: dict) -> str:
    """The one-line summary ``--verify`` prints last."""
    per = ', '.join(f'batch {n}: {r["output"]:.2e} / {r["keypoints"]:.3f} px'
                    for n, r in report['batches'].items())
    verdict = 'PASS' if verify_passed(report) else 'FAIL'
    return (f'{verdict} max |PyTorch - ONNX Runtime|: outputs '
            f'{report["output"]:.2e} (bound {OUTPUT_TOLERANCE:g}), '
            f'keypoints {report["keypoints"]:.3f} px (bound '
            f'{KEYPOINT_TOLERANCE_PX:g} px) [{per}]')
