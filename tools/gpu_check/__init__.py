"""The GPU acceptance check of mmpose_attn (issue 14), kept out of the
installed package: ``bash scripts/gpu_check.sh`` installs what is missing
and runs ``python -m gpu_check`` with ``tools/`` on ``PYTHONPATH``.

- :mod:`.check`: the pairs (each paper's model against its baseline), AMP
  training and inference timed by ``mmpose_attn.tools.analysis.measure``,
  the command line;
- :mod:`.deform`: the deformable convolution on the device against the CPU;
- :mod:`.report`: the report, written section by section as measured;
- :mod:`.wheels`: source distributions fetched without building them.
"""
