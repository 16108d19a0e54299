from .deform_conv import DeformConv2d, mmcv_deform_conv_devices
from .precision import float32_under_autocast

__all__ = [
    'DeformConv2d', 'float32_under_autocast', 'mmcv_deform_conv_devices'
]
