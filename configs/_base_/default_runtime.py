# MMPose's runtime plus the package import and our bad-input guards.
_base_ = ['mmpose::_base_/default_runtime.py']

custom_imports = dict(imports=['mmpose_attn'], allow_failed_imports=False)

# Fails fast when `load_from` is a checkpoint of another architecture
# (mmengine only warns about mismatched keys and goes on from scratch).
custom_hooks = [
    dict(type='SyncBuffersHook'),
    dict(type='CheckpointCompatibilityHook'),
]
