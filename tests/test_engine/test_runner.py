"""PoseAttnRunner through the user entry points (``mim train/test
mmpose_attn``): a file that is not a checkpoint, given as ``--checkpoint``
or ``--resume``, stops the command with a message naming it."""
import os
import os.path as osp
import subprocess
import sys

from mmpose_attn.engine import PoseAttnRunner
from mmpose_attn.engine.hooks import WeightsOnlyCheckpointHook
from test_checkpoint import make_runner

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TOOLS = osp.join(REPO, 'mmpose_attn', 'tools')
SGHRNET = osp.join(REPO, 'configs', 'sghrnet',
                   'sghrnet_hrnet-tiny_1xb2-1e_coco-128x96.py')


def test_weights_only_hook_is_registered_once(tmp_path):
    for hooks in (None, [dict(type='WeightsOnlyCheckpointHook')],
                  [dict(type='EMAHook')]):
        runner = make_runner(tmp_path / 'work', 1, PoseAttnRunner,
                             custom_hooks=hooks)
        ours = [h for h in runner.hooks
                if isinstance(h, WeightsOnlyCheckpointHook)]
        assert len(ours) == 1, hooks
        # last to see a checkpoint before it is written
        assert runner.hooks[-1] is ours[0]


def run_tool(tool, args, cwd):
    env = dict(os.environ, OMP_NUM_THREADS='1', PYTHONPATH=REPO)
    return subprocess.run(
        [sys.executable, osp.join(TOOLS, tool), SGHRNET, *args],
        cwd=cwd, env=env, capture_output=True, text=True, timeout=600)


def test_not_a_checkpoint_through_mim_test_and_train(tmp_path):
    notes = tmp_path / 'notes.pth'
    notes.write_text('epoch 10, loss 0.1\n')
    # `mim test ... --checkpoint X` runs test.py with X as its 2nd argument
    for tool, args in (('test.py', [str(notes)]),
                       ('train.py', ['--resume', str(notes)])):
        proc = run_tool(tool, args + ['--work-dir', str(tmp_path / 'w')],
                        tmp_path)
        assert proc.returncode != 0, tool
        assert f'CheckpointFileError: {notes}: not a readable checkpoint' \
            in proc.stderr, proc.stderr[-3000:]
        assert 'expected a PyTorch checkpoint' in proc.stderr
        assert not (tmp_path / 'w' / 'epoch_1.pth').exists()
