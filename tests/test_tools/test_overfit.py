"""Every paper's CPU-tier model learns the five real MPII sample images:
``compare_training --overfit`` (the config's optimizer at constant lr, batch
5, no random augmentation) moves its predictions onto the ground truth, i.e.
PCK@0.2 of the person box rises. These fail when a model stops learning (a
zeroed loss, a detached branch, a broken target)."""
import os.path as osp

import pytest

from mmpose_attn.tools.analysis import compare_training as ct

CONFIG_ROOT = osp.join(
    osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))), 'configs')
# CPU-tier paper config -> (iterations, minimal PCK@0.2 gain)
PAPER_MODELS = {
    # measured 0.22 to 0.26 (0.05 with the loss zeroed: BN statistics)
    'spcnet/cpu_tier/spcnet_dilated-hourglass2-r2-cpu-tier_1xb16-170e_mpii-128x128.py':  # noqa: E501
    (25, 0.15),
    # measured 0.19 to 0.24
    'sadinet/cpu_tier/sadinet_rfm-hourglass2-cpu-tier_1xb16-210e_mpii-128x128.py':  # noqa: E501
    (25, 0.12),
    # measured 0.72 to 0.78
    'sghrnet/cpu_tier/sghrnet_hrnet-w8-small-cpu-tier_1xb16-210e_mpii-128x96.py':  # noqa: E501
    (25, 0.25),
}


@pytest.mark.parametrize('rel', sorted(PAPER_MODELS))
def test_cpu_tier_paper_model_overfits_the_mpii_samples(rel, tmp_path):
    iters, min_gain = PAPER_MODELS[rel]
    [row] = ct.compare([osp.join(CONFIG_ROOT, rel)],
                       iters,
                       out=str(tmp_path),
                       overfit=True,
                       pictures=False,
                       progress=False,
                       device='cpu')
    [record] = row['records']
    assert record['loss_last'] < record['loss_first']
    before, after = row['before'][0], row['after'][0]
    assert after - before >= min_gain, (
        f'{rel}: PCK@0.2 {before:.3f} -> {after:.3f} in {iters} iterations')
