"""`import mmpose_attn` registers every module into MMPose's registries."""
import json
import subprocess
import sys

EXPECTED = {
    'DATASETS': ['LspDataset', 'FlicDataset', 'ToyPoseDataset'],
    'METRICS': ['TorsoPCKAccuracy'],
    'MODELS': [
        'MultiScaleTopdownPoseEstimator', 'DilatedHourglassNet',
        'SelectiveInformationModule', 'SPCNetHead', 'RFMHourglassNet',
        'SpatialFusionModule', 'DLMHead', 'SGHRNet', 'SGHeatmapHead',
        'DWALoss', 'SubspaceAttention', 'SAMKRHead',
        'WeightAdaptiveHeatmapLoss'
    ],
    'KEYPOINT_CODECS': ['SegmentationHeatmap'],
    'HOOKS': ['CheckpointCompatibilityHook', 'WeightsOnlyCheckpointHook',
              'DataCheckHook'],
    'RUNNERS': ['PoseAttnRunner'],
    'MODEL_WRAPPERS': ['AnyDeviceDistributedDataParallel'],
}


def test_import_registers_every_module():
    # a fresh interpreter: nothing but `import mmpose_attn` ran before
    code = ('import json, mmpose_attn, mmpose.registry as r; '
            f'expected = {EXPECTED!r}; '
            'print(json.dumps({k: [n for n in v if getattr(r, k).get(n) '
            'is None] for k, v in expected.items()}))')
    out = subprocess.run([sys.executable, '-c', code],
                         capture_output=True,
                         text=True,
                         check=True).stdout.strip().splitlines()[-1]
    assert json.loads(out) == {k: [] for k in EXPECTED}
