from . import backbones, heads, losses, necks, pose_estimators  # noqa: F401
