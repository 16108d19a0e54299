# get_flops and benchmark are runnable modules (``python -m ...``); import
# their functions from them, e.g.
# ``from mmpose_attn.tools.analysis.get_flops import get_flops``.
from .config_utils import drop_pretrained, input_hw_of, load_config  # noqa
