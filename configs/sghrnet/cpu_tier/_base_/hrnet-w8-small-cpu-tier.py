# The CPU tier's HRNet: HRNet-W32's trunk (../../_base_/hrnet-w32.py) with
# width 8, one block per branch and one module per stage, bilinear fusion
# upsampling (SG-HRNet Sec. 3.3: "upsampled using bilinear interpolation"),
# trained from scratch (no ImageNet HRNet at these widths). Shared by the
# CPU-tier SG-HRNet configs and their same-size HRNet baselines, which add
# the backbone type and the head.
_base_ = ['../../_base_/hrnet-w32.py']

model = dict(
    backbone=dict(
        extra=dict(
            stage1=dict(num_blocks=(1, ), num_channels=(16, )),
            stage2=dict(num_blocks=(1, 1), num_channels=(8, 16)),
            stage3=dict(
                num_modules=1,
                num_blocks=(1, 1, 1),
                num_channels=(8, 16, 32)),
            stage4=dict(
                num_modules=1,
                num_blocks=(1, 1, 1, 1),
                num_channels=(8, 16, 32, 64)),
            upsample=dict(mode='bilinear', align_corners=False)),
        init_cfg=None))
