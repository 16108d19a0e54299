from . import backbones, heads, losses, necks, pose_estimators, utils  # noqa: F401
