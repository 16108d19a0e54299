# Converters from original annotation files to the COCO-style json read by
# mmpose_attn's datasets; run them as `python -m
# mmpose_attn.tools.dataset_converters.<name> --help`.
