"""Bad data found before the first training iteration, named by file,
image and annotation id.

A list of checks applied to every dataset and evaluator a run builds, by
:class:`~mmpose_attn.engine.hooks.DataCheckHook` (``before_run``, listed in
our configs' ``custom_hooks``), and to every file a config names, by
:func:`check_config_files`, for the runner to call before MMPose's dataset
and metric constructors read them (they report invalid JSON, a file of
another format or an empty dataset without naming the file). MMPose's
classes are not changed: the checks read the files and the parsed
samples.

* :data:`ANNOTATION_FILE_CHECKS` read each annotation file once (datasets'
  ``ann_file``, evaluators' ``ann_file``): valid JSON, the format the
  dataset or metric reads (COCO-style dict or MPII-style list), the joint
  count of the dataset's metainfo, finite keypoints inside the image's
  extent (or at most one image size outside it), sane visibility flags and
  boxes. Annotations MMPose drops without a word (a box of non-positive
  width or height) get one warning line with their count and first ids.
* :data:`DATASET_CHECKS` run on the built dataset: the file checks above,
  not empty, the metainfo's joint count and finite keypoints and boxes in
  the parsed samples (for formats the file checks do not read), and every
  listed image exists and is not empty (one ``stat`` per image; about 1 s
  for 100K images). ``filter_cfg=dict(check_images=True)`` in a dataset also
  decodes every image (slow: once per image, a progress bar).
* :data:`EVALUATOR_CHECKS` run on each metric: its ``ann_file`` against
  the metainfo of the dataset it evaluates.

Each check is ``check(target, report)``; it raises :class:`DataCheckError`
(a ``ValueError``; ``FileNotFoundError`` for missing files) or adds warning
lines to ``report``. Add a check by appending a function to a list.
"""
import json
import math
import os
import os.path as osp
import sys
from typing import Callable, Dict, List, Optional, Sequence

import numpy as np

#: How many offending records an error or warning lists.
MAX_LISTED = 5


class DataCheckError(ValueError):
    """Bad data: the message names the file, the image and the record."""


class CheckReport:
    """State shared by the checks of one run: parsed annotation files
    (read once, whoever names them) and the warning lines.

    Args:
        logger (callable, optional): ``logger(line)`` for each warning;
            default: mmengine's current logger at WARNING level.
    """

    def __init__(self, logger: Optional[Callable[[str], None]] = None):
        self._files: Dict[str, object] = {}
        self._checked = set()
        #: ``{ann_file: file names of the images with a person MMPose
        #: keeps}``, from the COCO-style file checks
        self.kept_images: Dict[str, List[str]] = {}
        self.warnings: List[str] = []
        self._logger = logger

    def warn(self, line: str) -> None:
        self.warnings.append(line)
        if self._logger is not None:
            self._logger(line)
        else:
            import logging

            from mmengine.logging import print_log
            print_log(line, logger='current', level=logging.WARNING)

    def load_json(self, path: str):
        """The parsed JSON of ``path``, read once per report.

        Raises:
            FileNotFoundError: ``path`` does not exist.
            DataCheckError: ``path`` is empty or not valid JSON.
        """
        if path not in self._files:
            self._files[path] = read_json(path)
        return self._files[path]

    def first_time(self, *key) -> bool:
        """True the first time ``key`` is seen (a file checked once for the
        same joint count and format, e.g. by a dataset and its metric)."""
        if key in self._checked:
            return False
        self._checked.add(key)
        return True


def _is_local(path) -> bool:
    return isinstance(path, str) and bool(path) and '://' not in path


def _listed(items: Sequence[str]) -> str:
    shown = ', '.join(items[:MAX_LISTED])
    return shown + (f', ... ({len(items) - MAX_LISTED} more)'
                    if len(items) > MAX_LISTED else '')


def read_json(path: str):
    """Parse a JSON annotation file, naming it in every error."""
    if not osp.isfile(path):
        raise FileNotFoundError(f'{path}: annotation file does not exist')
    if osp.getsize(path) == 0:
        raise DataCheckError(f'{path}: annotation file is empty (0 bytes)')
    try:
        with open(path, encoding='utf-8') as f:
            return json.load(f)
    except UnicodeDecodeError as e:
        raise DataCheckError(
            f'{path}: annotation file is not JSON text ({e})') from e
    except json.JSONDecodeError as e:
        raise DataCheckError(
            f'{path}: annotation file is not valid JSON ({e.msg} at line '
            f'{e.lineno}, column {e.colno})') from e


# --------------------------------------------------------------------------
# What a dataset or metric reads


def expected_format(obj) -> Optional[str]:
    """``'coco'`` or ``'mpii'``: the annotation format a dataset or metric
    class (or instance) parses; None where unknown (then only the JSON is
    checked)."""
    cls = obj if isinstance(obj, type) else type(obj)
    try:
        from mmpose.datasets import MpiiDataset
        from mmpose.datasets.datasets.base import BaseCocoStyleDataset
        from mmpose.evaluation.metrics import CocoMetric
    except ImportError:  # pragma: no cover
        return None
    # subclasses that parse other keys (COCO-WholeBody's face/hand points,
    # DeepFashion's mapped joints) are checked on their parsed samples only
    if issubclass(cls, MpiiDataset) and \
            cls.parse_data_info is MpiiDataset.parse_data_info:
        return 'mpii'
    if cls is CocoMetric:
        return 'coco'
    base = BaseCocoStyleDataset
    if issubclass(cls, base) and \
            cls._load_annotations is base._load_annotations and \
            cls.parse_data_info is base.parse_data_info:
        return 'coco'
    return None


# --------------------------------------------------------------------------
# Annotation-file checks: check(spec, report), spec = AnnotationFile


class AnnotationFile:
    """An annotation file as a run reads it.

    Args:
        path (str): The file.
        fmt (str, optional): ``'coco'``, ``'mpii'`` or None (JSON only).
        metainfo (dict, optional): The dataset's parsed metainfo
            (``num_keypoints``, ``keypoint_id2name``, ``dataset_name``).
        role (str): Who reads it, e.g. ``'val_evaluator.ann_file'``.
        samples (bool): A dataset reads its samples from it (it must hold
            some); False for a metric's ground truth. Default: True.
    """

    def __init__(self,
                 path: str,
                 fmt: Optional[str],
                 metainfo: Optional[dict],
                 role: str,
                 samples: bool = True):
        self.path = path
        self.fmt = fmt
        self.metainfo = metainfo or {}
        self.role = role
        self.samples = samples

    @property
    def num_keypoints(self) -> Optional[int]:
        return self.metainfo.get('num_keypoints')

    def describe_metainfo(self) -> str:
        name = self.metainfo.get('dataset_name')
        return f'metainfo{f" ({name})" if name else ""}'


def check_annotation_format(spec: AnnotationFile, report: CheckReport) -> None:
    """The file is valid JSON of the format its reader parses."""
    data = report.load_json(spec.path)
    if spec.fmt == 'coco':
        if isinstance(data, list):
            hint = ''
            if data and isinstance(data[0], dict) and 'joints' in data[0]:
                hint = ('; this is an MPII-style file (a list of dicts with '
                        '"joints", "center", "scale"), read by MpiiDataset')
            raise DataCheckError(
                f'{spec.path}: {spec.role} expects a COCO-style annotation '
                'file (a dict with "images", "annotations" and '
                f'"categories"), found a list of {len(data)} items{hint}')
        missing = [k for k in ('images', 'annotations')
                   if not isinstance(data, dict) or k not in data]
        if missing:
            raise DataCheckError(
                f'{spec.path}: {spec.role} expects a COCO-style annotation '
                f'file; it lacks {missing}')
    elif spec.fmt == 'mpii':
        if not isinstance(data, list) or (data and not all(
                isinstance(a, dict) and 'joints' in a for a in data)):
            kind = ('a COCO-style dict' if isinstance(data, dict)
                    and 'annotations' in data else type(data).__name__)
            raise DataCheckError(
                f'{spec.path}: {spec.role} expects an MPII-style annotation '
                'file (a list of dicts with "image", "joints", "center", '
                f'"scale"), found {kind}')


def check_coco_annotations(spec: AnnotationFile, report: CheckReport) -> None:
    """COCO-style records: joint count, finite keypoints inside the image's
    extent, visibility flags, boxes (vectorised: about 2 s for 100K
    persons)."""
    if spec.fmt != 'coco':
        return
    data = report.load_json(spec.path)
    k = spec.num_keypoints
    images = {img.get('id'): img for img in data['images']}
    rows, kpts, sizes, boxes = [], [], [], []
    bad_count, bad_img = [], []
    for ann in data['annotations']:
        img = images.get(ann.get('image_id'))
        if img is None:
            raise DataCheckError(
                f'{spec.path}: annotation id {ann.get("id")} refers to '
                f'image_id {ann.get("image_id")}, which is not in "images"')
        values = ann.get('keypoints')
        if values is None:
            continue
        if not isinstance(values, list) or len(values) % 3 or \
                (k and len(values) != 3 * k) or \
                (kpts and len(values) != len(kpts[0])):
            bad_count.append((ann, img, values))
            continue
        w, h = img.get('width'), img.get('height')
        if not (isinstance(w, (int, float)) and isinstance(h, (int, float))
                and w > 0 and h > 0):
            bad_img.append(f'{img.get("file_name")} (image id '
                           f'{img.get("id")}: width={w}, height={h})')
            continue
        box = ann.get('bbox')
        has_box = box is not None  # MMPose skips a person without one
        if not (isinstance(box, list) and len(box) == 4):
            box = [1, 1, 1, 1] if box is None else [math.nan] * 4
        rows.append((ann, img))
        kpts.append(values)
        sizes.append((w, h, ann.get('iscrowd', 0) or 0,
                      ann.get('num_keypoints', 1), has_box))
        boxes.append(box)
    if bad_count:
        ann, img, values = bad_count[0]
        n = len(values) if isinstance(values, list) else values
        raise DataCheckError(
            f'{spec.path}: {len(bad_count)} annotation(s) do not hold '
            f'{k} keypoints of 3 values (x, y, visibility) as '
            f'{spec.describe_metainfo()} of {spec.role} defines: first id '
            f'{ann.get("id")} ({img.get("file_name")}) has {n} values'
            + (f' ({n // 3} keypoints)' if isinstance(n, int) and n % 3 == 0
               else '') + '; is the file for another dataset?')
    if bad_img:
        raise DataCheckError(
            f'{spec.path}: {len(bad_img)} image(s) lack a positive width and '
            f'height: {_listed(bad_img)}')

    def where(mask):
        return [
            f'id {rows[i][0].get("id")} ({rows[i][1].get("file_name")})'
            for i in np.flatnonzero(mask)[:MAX_LISTED + 1]
        ]

    def fail(mask, what):
        if mask.any():
            listed = where(mask)
            more = int(mask.sum())
            raise DataCheckError(
                f'{spec.path}: {more} annotation(s) have {what}: '
                f'{_listed(listed[:MAX_LISTED])}' +
                (f', ... ({more - MAX_LISTED} more)'
                 if more > MAX_LISTED else ''))

    n = len(rows)
    if n:
        try:
            kp = np.asarray(kpts, dtype=np.float64).reshape(n, -1, 3)
            bx = np.asarray(boxes, dtype=np.float64)
        except (TypeError, ValueError) as e:
            raise DataCheckError(
                f'{spec.path}: keypoints or boxes that are not numbers '
                f'({e})') from e
        meta = np.asarray(sizes, dtype=np.float64)
        w, h, crowd, num_kpts, has_box = meta.T
        person = crowd == 0
        fail(person & ~(np.isfinite(kp).all((1, 2)) & np.isfinite(bx).all(1)),
             'NaN or infinite keypoints or boxes')
        fail(person & (kp[..., 2] < 0).any(1),
             'negative keypoint visibility flags (COCO: 0, 1 or 2)')
        labelled = kp[..., 2] > 0
        wh = np.stack([w, h], 1)[:, None]
        far = ((kp[..., :2] < -wh) | (kp[..., :2] > 2 * wh)).any(-1)
        fail(person & (far & labelled).any(1),
             'labelled keypoints outside the image by more than the image '
             'size (wrong coordinates?)')
        # MMPose skips persons without labelled keypoints, clips the box to
        # the image and drops an empty one
        used = person & labelled.any(1) & (num_kpts != 0) & (has_box > 0)
        x, y, bw, bh = bx.T
        empty = (bw <= 0) | (bh <= 0) | \
            (np.minimum(x + bw, w - 1) <= np.maximum(x, 0)) | \
            (np.minimum(y + bh, h - 1) <= np.maximum(y, 0))
        dropped = used & empty
        if dropped.any():
            ids = [str(rows[i][0].get('id')) for i in np.flatnonzero(dropped)]
            report.warn(
                f'{spec.path}: {len(ids)} annotation(s) with a box of '
                'non-positive width or height (inside the image) are '
                f'skipped, as MMPose does: ids {_listed(ids)}')
        kept = used & ~empty
        num_kept = int(kept.sum())
        report.kept_images[spec.path] = sorted(
            {rows[i][1].get('file_name') for i in np.flatnonzero(kept)})
    else:
        num_kept = 0
        report.kept_images[spec.path] = []
    if spec.samples and not num_kept:
        raise DataCheckError(
            f'{spec.path}: {spec.role} keeps none of its {n} person '
            'annotation(s) (none is a non-crowd person with labelled '
            'keypoints and a box inside the image): refusing to train or '
            'evaluate on an empty dataset')


def check_mpii_annotations(spec: AnnotationFile, report: CheckReport) -> None:
    """MPII-style records: joint count and finite joints, centres and
    scales."""
    if spec.fmt != 'mpii':
        return
    k = spec.num_keypoints
    bad_count, nonfinite = [], []
    for i, ann in enumerate(report.load_json(spec.path)):
        where = f'record {i} ({ann.get("image")})'
        joints = np.asarray(ann['joints'], dtype=np.float64)
        if joints.ndim != 2 or joints.shape[1] != 2 or \
                (k and joints.shape[0] != k):
            bad_count.append(f'{where}: joints of shape {joints.shape}')
            continue
        values = [joints, np.asarray(ann.get('center', 0), np.float64),
                  np.asarray(ann.get('scale', 1), np.float64)]
        if not all(np.isfinite(v).all() for v in values):
            nonfinite.append(where)
    if bad_count:
        raise DataCheckError(
            f'{spec.path}: {len(bad_count)} record(s) do not hold {k} joints '
            f'(x, y) as {spec.describe_metainfo()} of {spec.role} defines: '
            f'{_listed(bad_count)}; is the file for another dataset?')
    if nonfinite:
        raise DataCheckError(
            f'{spec.path}: {len(nonfinite)} record(s) have NaN or infinite '
            f'joints, centre or scale: {_listed(nonfinite)}')


#: Checks of one annotation file, in order.
ANNOTATION_FILE_CHECKS: List[Callable[[AnnotationFile, CheckReport],
                                      None]] = [
    check_annotation_format, check_coco_annotations, check_mpii_annotations
]


def check_annotation_file(spec: AnnotationFile, report: CheckReport) -> None:
    """Run :data:`ANNOTATION_FILE_CHECKS` on ``spec`` (once per file, format
    and joint count)."""
    if not _is_local(spec.path) or not spec.path.endswith('.json'):
        return
    if report.first_time(spec.path, spec.fmt, spec.num_keypoints,
                         spec.samples):
        for check in ANNOTATION_FILE_CHECKS:
            check(spec, report)


class CheckedAnnotationsMixin:
    """For this package's COCO-style datasets (``class
    LspDataset(CheckedAnnotationsMixin, BaseCocoStyleDataset)``): the
    annotation-file checks run when the dataset is built, whoever builds
    it, before MMPose parses the file."""

    def load_data_list(self):
        if not getattr(self, 'bbox_file', None):
            check_annotation_file(
                AnnotationFile(self.ann_file, expected_format(self),
                               self.metainfo, type(self).__name__),
                CheckReport())
        return super().load_data_list()


# --------------------------------------------------------------------------
# Dataset checks: check(dataset, report), on the built dataset


def _name(dataset) -> str:
    role = getattr(dataset, '_data_check_role', None)
    name = type(dataset).__name__
    return f'{role} ({name})' if role else name


def _source(dataset) -> str:
    return getattr(dataset, 'bbox_file', None) or getattr(
        dataset, 'ann_file', '') or type(dataset).__name__


def check_dataset_annotation_files(dataset, report: CheckReport) -> None:
    """The dataset's own annotation file, as in
    :data:`ANNOTATION_FILE_CHECKS`."""
    ann_file = getattr(dataset, 'ann_file', None)
    if ann_file and not getattr(dataset, 'bbox_file', None):
        check_annotation_file(
            AnnotationFile(ann_file, expected_format(dataset),
                           dataset.metainfo, _name(dataset)), report)


def samples(dataset) -> list:
    """The parsed samples of a built dataset. mmengine serialises
    ``data_list`` into bytes by default: they are decoded once per check
    run, and only where a check needs them (slow: pickles of COCO's
    segmentation polygons)."""
    cached = getattr(dataset, '_data_check_samples', None)
    if cached is not None:
        return cached
    if dataset.data_list:
        return dataset.data_list
    from mmengine.dataset import BaseDataset
    decoded = [
        BaseDataset.get_data_info(dataset, i) for i in range(len(dataset))
    ]
    if hasattr(dataset, '_data_check_samples'):
        dataset._data_check_samples = decoded
    return decoded


def _raw_checked(dataset) -> bool:
    """Its samples come from an annotation file the file checks read
    (COCO- or MPII-style, no detections file)."""
    return expected_format(dataset) in ('coco', 'mpii') and not getattr(
        dataset, 'bbox_file', None) and _is_local(
            getattr(dataset, 'ann_file', None))


def check_not_empty(dataset, report: CheckReport) -> None:
    """Nothing trains or evaluates silently on an empty dataset."""
    if len(dataset) == 0:
        raise DataCheckError(
            f'{_source(dataset)}: {_name(dataset)} has no samples left after '
            f"MMPose's parsing and filtering (data_mode="
            f'{getattr(dataset, "data_mode", None)!r}): refusing to train or '
            'evaluate on an empty dataset')


def check_instances(dataset, report: CheckReport) -> None:
    """Joint count of the metainfo, finite labelled keypoints and boxes in
    every parsed sample, for a format the file checks do not read."""
    if _raw_checked(dataset):
        return
    expected = dataset.metainfo.get('num_keypoints')
    nonfinite = []
    for info in samples(dataset):
        kpts = info.get('keypoints')
        if kpts is None:
            continue
        kpts = np.asarray(kpts)
        where = (f'id {info.get("id", info.get("img_id"))} '
                 f'({info.get("img_path")})')
        if expected and kpts.ndim >= 2 and kpts.shape[-2] != expected:
            raise DataCheckError(
                f'{_source(dataset)}: {where} has {kpts.shape[-2]} keypoints '
                f'but the metainfo of {_name(dataset)} '
                f'({dataset.metainfo.get("dataset_name")}) defines '
                f'{expected}: is the annotation file for another dataset?')
        visible = info.get('keypoints_visible')
        labelled = np.ones(kpts.shape[:-1], bool) if visible is None else \
            np.asarray(visible) > 0
        bbox = info.get('bbox')
        if not np.isfinite(kpts[labelled]).all() or (
                bbox is not None and not np.isfinite(np.asarray(bbox)).all()):
            nonfinite.append(where)
    if nonfinite:
        raise DataCheckError(
            f'{_source(dataset)}: {len(nonfinite)} sample(s) of '
            f'{_name(dataset)} have NaN or infinite keypoints or boxes: '
            f'{_listed(nonfinite)}')


def describe_unreadable_image(path: str, decode: bool = True) -> Optional[str]:
    """What stops ``path`` from loading as an image, or None.

    Args:
        path (str): The image file.
        decode (bool): Also decode it (OpenCV, as ``LoadImage``, at 1/8
            scale) and look for a JPEG's end marker; False: ``stat`` only.
    """
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return 'file not found'
    except OSError as e:
        return f'cannot stat ({e.strerror})'
    if not osp.isfile(path):
        return 'not a file'
    if st.st_size == 0:
        return 'empty file (0 bytes)'
    if not decode:
        return None
    import cv2
    data = np.fromfile(path, np.uint8)
    if cv2.imdecode(data, cv2.IMREAD_REDUCED_GRAYSCALE_8) is None:
        return (f'not an image OpenCV can decode ({st.st_size} bytes, '
                f'starting {data[:8].tobytes()!r})')
    if data[:2].tobytes() == b'\xff\xd8' and \
            b'\xff\xd9' not in data[-64:].tobytes():
        return f'truncated JPEG (no end marker; {st.st_size} bytes)'
    return None


def check_image_files(dataset, report: CheckReport) -> None:
    """Every listed image exists and is not empty (one ``stat`` each);
    with ``filter_cfg=dict(check_images=True)`` every image also decodes."""
    kept = report.kept_images.get(getattr(dataset, 'ann_file', None))
    if kept is not None and _raw_checked(dataset):
        prefix = (getattr(dataset, 'data_prefix', None) or {}).get('img', '')
        paths = [osp.join(prefix, name) for name in kept]
    else:
        paths = sorted({
            info['img_path']
            for info in samples(dataset) if _is_local(info.get('img_path'))
        })
    decode = bool((getattr(dataset, 'filter_cfg', None) or {}).get(
        'check_images'))
    bar = None
    if decode and paths:
        from mmengine.dist import is_main_process
        from mmengine.utils import ProgressBar
        if is_main_process():
            bar = ProgressBar(len(paths), file=sys.stdout)
    bad = []
    for path in paths:
        problem = describe_unreadable_image(path, decode)
        if problem:
            bad.append(f'{path}: {problem}')
        if bar:
            bar.update()
    if bar:
        sys.stdout.write('\n')
    if bad:
        error = FileNotFoundError if all(
            b.endswith('file not found') for b in bad) else DataCheckError
        how = 'check_images=True' if decode else (
            'existence and size; filter_cfg=dict(check_images=True) also '
            'decodes them')
        raise error(f'{_source(dataset)}: {len(bad)} of {len(paths)} images '
                    f'listed by {_name(dataset)} cannot be read ({how}): '
                    f'{_listed(bad)}')


#: Checks of one built dataset, in order.
DATASET_CHECKS: List[Callable] = [
    check_dataset_annotation_files, check_not_empty, check_instances,
    check_image_files
]


def leaf_datasets(dataset) -> list:
    """The datasets inside wrappers (Concat/Repeat/Combined...)."""
    inner = getattr(dataset, 'datasets', None)
    if isinstance(inner, (list, tuple)):
        return [d for sub in inner for d in leaf_datasets(sub)]
    if hasattr(dataset, 'dataset') and not hasattr(dataset, 'data_list'):
        return leaf_datasets(dataset.dataset)
    return [dataset]


def check_dataset(dataset, role: str, report: CheckReport) -> None:
    """Run :data:`DATASET_CHECKS` on ``dataset`` and the datasets it wraps.

    Args:
        dataset: A built (MMPose) dataset.
        role (str): Where the config sets it, e.g.
            ``'train_dataloader.dataset'``.
        report (CheckReport): Shared state of the run.
    """
    for leaf in leaf_datasets(dataset):
        if not hasattr(leaf, 'data_list'):
            continue
        if hasattr(leaf, 'full_init'):
            leaf.full_init()
        leaf._data_check_role = role
        leaf._data_check_samples = None  # decoded on first use
        try:
            for check in DATASET_CHECKS:
                check(leaf, report)
        finally:
            del leaf._data_check_samples


# --------------------------------------------------------------------------
# Evaluator checks: check(metric, role, dataset_meta, report)


def check_metric_ann_file(metric, role: str, dataset_meta: Optional[dict],
                          report: CheckReport) -> None:
    """A metric's ``ann_file`` (e.g. CocoMetric's) against the metainfo of
    the dataset it evaluates."""
    ann_file = getattr(metric, 'ann_file', None)
    if not ann_file:
        return
    meta = dataset_meta or getattr(metric, 'dataset_meta', None)
    check_annotation_file(
        AnnotationFile(
            ann_file,
            expected_format(metric),
            meta,
            f'{role} ({type(metric).__name__})',
            samples=False), report)


#: Checks of one built metric, in order.
EVALUATOR_CHECKS: List[Callable] = [check_metric_ann_file]


def check_evaluator(evaluator, role: str, dataset_meta: Optional[dict],
                    report: CheckReport) -> None:
    """Run :data:`EVALUATOR_CHECKS` on every metric of ``evaluator``."""
    metrics = getattr(evaluator, 'metrics', None)
    if metrics is None:
        metrics = evaluator if isinstance(evaluator, list) else [evaluator]
    for metric in metrics:
        for check in EVALUATOR_CHECKS:
            check(metric, role, dataset_meta, report)


# --------------------------------------------------------------------------
# Pre-flight over a config, before any MMPose constructor reads a file


def _config_datasets(dataset_cfg, role):
    """(role, dataset config) of a dataset config and those it wraps."""
    if not isinstance(dataset_cfg, dict):
        return
    for key in ('datasets', ):
        if isinstance(dataset_cfg.get(key), (list, tuple)):
            for i, sub in enumerate(dataset_cfg[key]):
                yield from _config_datasets(sub, f'{role}.{key}[{i}]')
            return
    if isinstance(dataset_cfg.get('dataset'), dict):
        yield from _config_datasets(dataset_cfg['dataset'], f'{role}.dataset')
        return
    yield role, dataset_cfg


def _dataset_class_and_meta(dataset_cfg):
    from mmpose.registry import DATASETS
    cls = DATASETS.get(dataset_cfg.get('type', ''))
    if cls is None:
        return None, None
    meta = None
    if hasattr(cls, '_load_metainfo'):
        try:
            meta = cls._load_metainfo(dataset_cfg.get('metainfo'))
        except Exception:  # the constructor will report a bad metainfo
            meta = None
    return cls, meta


def _join(root, path):
    if not path or not root or osp.isabs(path) or '://' in path:
        return path
    return osp.join(root, path)


def check_config_paths(dataset_cfg: dict, role: str) -> None:
    """The files and folders a dataset config names exist (MMPose's
    assertions name the missing ``headbox_file`` or ``bbox_file`` only as
    "does not exist"). Skipped for a dataset class with
    ``generates_files = True`` (e.g. :class:`ToyPoseDataset`).

    Raises:
        FileNotFoundError: One is missing; the setting and path are named.
    """
    root = dataset_cfg.get('data_root')
    if _is_local(root) and not osp.isdir(root):
        raise FileNotFoundError(
            f'{root}: {role}.data_root ({dataset_cfg.get("type")}) does not '
            'exist')
    for key in ('ann_file', 'bbox_file', 'headbox_file'):
        path = dataset_cfg.get(key)
        if key == 'ann_file':  # MMPose joins only this one to data_root
            path = _join(root, path)
        if _is_local(path) and not osp.isfile(path):
            raise FileNotFoundError(
                f'{path}: {role}.{key} ({dataset_cfg.get("type")}) does not '
                'exist')
    img = _join(root, (dataset_cfg.get('data_prefix') or {}).get('img'))
    if _is_local(img) and not osp.isdir(img):
        raise FileNotFoundError(
            f'{img}: the image folder of {role} ({dataset_cfg.get("type")}: '
            'data_root + data_prefix.img) does not exist')


def check_config_files(cfg, report: Optional[CheckReport] = None,
                       phases: Sequence[str] = ('train', 'val', 'test')
                       ) -> CheckReport:
    """Check every annotation file ``cfg`` names before MMPose reads it.

    MMPose's dataset and metric constructors parse the annotation files and
    report invalid JSON or a file of another format without naming it;
    this runs first (our ``tools/train.py``/``test.py``). Files that do not
    exist yet are left to the constructors, which name them.

    Args:
        cfg (mmengine.Config): A full config.
        report (CheckReport, optional): Shared state; a new one if None.
        phases (Sequence[str]): Which of ``train``/``val``/``test`` to check.

    Returns:
        CheckReport: The report (with any warning lines).
    """
    from mmengine.registry import init_default_scope
    init_default_scope(cfg.get('default_scope', 'mmpose'))
    report = report or CheckReport()
    for phase in phases:
        loader = cfg.get(f'{phase}_dataloader')
        if not isinstance(loader, dict):
            continue
        metas = []
        for role, dcfg in _config_datasets(
                loader.get('dataset'), f'{phase}_dataloader.dataset'):
            cls, meta = _dataset_class_and_meta(dcfg)
            metas.append(meta)
            if cls is None or getattr(cls, 'generates_files', False):
                continue
            check_config_paths(dcfg, role)
            path = _join(dcfg.get('data_root'), dcfg.get('ann_file'))
            if not path or dcfg.get('bbox_file'):
                continue
            check_annotation_file(
                AnnotationFile(path, expected_format(cls), meta,
                               f'{role} ({cls.__name__})'), report)
        evaluator = cfg.get(f'{phase}_evaluator') if phase != 'train' \
            else None
        metrics = evaluator if isinstance(evaluator, (list, tuple)) else \
            [evaluator] if evaluator else []
        if isinstance(evaluator, dict) and 'metrics' in evaluator:
            metrics = evaluator['metrics']
            metrics = metrics if isinstance(metrics, list) else [metrics]
        for i, mcfg in enumerate(metrics):
            if not isinstance(mcfg, dict) or not mcfg.get('ann_file'):
                continue
            from mmpose.registry import METRICS
            mcls = METRICS.get(mcfg.get('type', ''))
            path = mcfg['ann_file']
            if mcls is None or not _is_local(path) or not osp.isfile(path):
                continue
            role = f'{phase}_evaluator' + (f'[{i}]'
                                           if len(metrics) > 1 else '')
            check_annotation_file(
                AnnotationFile(
                    path,
                    expected_format(mcls),
                    metas[0] if len(metas) == 1 else None,
                    f'{role} ({mcls.__name__})',
                    samples=False), report)
    return report

