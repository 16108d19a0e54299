# MMPose's runtime plus the package import and our bad-input guards.
_base_ = ['mmpose::_base_/default_runtime.py']

custom_imports = dict(imports=['mmpose_attn'], allow_failed_imports=False)

# Built by `mim train/test mmpose_attn` (mmpose_attn.tools.train/test):
# checkpoints read without a process-wide pickle allowlist, errors naming the
# file, another architecture refused, `--launcher pytorch` without CUDA.
runner_type = 'PoseAttnRunner'

custom_hooks = [
    dict(type='SyncBuffersHook'),
    # For a stock Runner (MMPose's tools/train.py ignores `runner_type`):
    # checkpoints saved loadable under torch's weights-only default, and
    # `load_from`/resume checked before loading (errors name the file).
    dict(type='WeightsOnlyCheckpointHook'),
    dict(type='CheckpointCompatibilityHook'),
    # Bad data and input sizes the backbone cannot process: an error naming
    # the file or setting before iteration 1 (mmpose_attn.engine.hooks).
    dict(type='DataCheckHook'),
]
