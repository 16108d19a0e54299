"""AnyDeviceDistributedDataParallel wraps a CPU module where mmengine's
Runner passes ``device_ids=[LOCAL_RANK]``."""
import pytest
import torch
import torch.distributed as dist
from mmengine.model.wrappers import MMDistributedDataParallel
from torch import nn

from mmpose.registry import MODEL_WRAPPERS


@pytest.fixture
def one_process_group(tmp_path):
    dist.init_process_group(
        'gloo', init_method=f'file://{tmp_path}/store', rank=0, world_size=1)
    yield
    dist.destroy_process_group()


def test_cpu_module_is_wrapped_without_device_ids(one_process_group):
    module = nn.Linear(3, 2)
    with pytest.raises(ValueError, match='device_ids'):
        MMDistributedDataParallel(module=module, device_ids=[0])
    # built as Runner.wrap_model builds it (PoseAttnRunner's default)
    wrapped = MODEL_WRAPPERS.build(
        dict(type='AnyDeviceDistributedDataParallel',
             broadcast_buffers=False),
        default_args=dict(module=module, device_ids=[0]))
    assert isinstance(wrapped, MMDistributedDataParallel)
    assert wrapped.device_ids is None and wrapped.module is module
    x = torch.randn(4, 3)
    torch.testing.assert_close(wrapped(x), module(x))
