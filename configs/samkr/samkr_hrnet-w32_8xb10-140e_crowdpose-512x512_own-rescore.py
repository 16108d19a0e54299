# The base config tested with a rescore net trained for this model, as
# DEKR's own repository does, instead of DEKR's off-the-shelf net. After
# training the base config:
#   python -m mmpose_attn.tools.train_rescore_net \
#       configs/samkr/samkr_hrnet-w32_8xb10-140e_crowdpose-512x512.py CKPT
# writes work_dirs/<base config name>/rescore_net.pth (relative to the
# working directory), which this config loads; it replaces the rescore
# weights of any checkpoint tested with it.
_base_ = ['./samkr_hrnet-w32_8xb10-140e_crowdpose-512x512.py']

model = dict(
    head=dict(
        rescore_cfg=dict(
            init_cfg=dict(
                type='Pretrained',
                checkpoint='work_dirs/samkr_hrnet-w32_8xb10-140e_crowdpose-512x512/'  # noqa: E501
                'rescore_net.pth'))))
