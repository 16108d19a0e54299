# The tools are runnable modules (``python -m ...``); import their functions
# from them, e.g. ``from mmpose_attn.tools.analysis.get_flops import
# get_flops``. ``measure`` is the core they share.
