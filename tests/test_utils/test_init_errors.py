"""A misspelt keyword of one of our subclasses names our class, not the
MMPose parent it is passed on to."""
import pytest
from torch import nn

from mmpose.registry import MODELS
from mmpose_attn.utils.init_errors import name_class_in_init_errors


def test_registered_subclass_names_itself():
    cfg = dict(
        type='SAMKRHead', in_channels=8, num_keypoints=2, num_keypont=17)
    with pytest.raises(TypeError) as err:
        MODELS.build(cfg)
    message = str(err.value)
    assert "SAMKRHead.__init__() got an unexpected keyword argument " \
        "'num_keypont'" in message
    assert 'passed on to DEKRHead.__init__()' in message


def test_direct_construction_names_itself():
    cls = MODELS.get('SGHRNet')
    with pytest.raises(TypeError, match=r"^SGHRNet\.__init__\(\) got an "
                       r"unexpected keyword argument 'bogus'"):
        cls(extra={}, bogus=1)


class Parent(nn.Module):

    def __init__(self, width=1):
        super().__init__()


class Child(Parent):

    def __init__(self, **kwargs):
        super().__init__(**kwargs)


class GrandChild(Child):
    pass


def test_only_parent_keyword_errors_are_renamed():
    name_class_in_init_errors(Child)
    name_class_in_init_errors(Child)  # idempotent: one wrapper
    assert Child.__init__.__wrapped__.__name__ == '__init__'
    assert not hasattr(Child.__init__.__wrapped__, '__wrapped__')
    with pytest.raises(TypeError, match=r"^Child\.__init__\(\) got an "
                       r"unexpected keyword argument 'wdth' \(passed on to "
                       r'Parent\.__init__\(\)'):
        Child(wdth=2)
    Child(width=2)
    # an unwrapped subclass keeps Python's message
    with pytest.raises(TypeError, match=r'^Parent\.__init__\(\)'):
        GrandChild(wdth=2)
    # other TypeErrors pass unchanged
    with pytest.raises(TypeError, match='takes 1 positional argument'):
        Child(1, 2)
