"""mmpose_attn: attention-based human pose estimation methods for MMPose 1.x.

Install with ``bash scripts/setup_env.sh`` (it installs the pinned OpenMMLab
stack first; see README). The configs travel inside the package as
``mmpose_attn/.mim/configs`` so that ``mmpose_attn::spcnet/...`` resolves from
regular installs; editable installs read them from the checkout.
"""
import os
import os.path as osp
import shutil

from setuptools import find_packages, setup
from setuptools.command.build_py import build_py


def readme():
    with open('README.md', encoding='utf-8') as f:
        return f.read()


def get_version():
    scope = {}
    with open(osp.join('mmpose_attn', 'version.py'), encoding='utf-8') as f:
        exec(f.read(), scope)
    return scope['__version__']


class BuildWithMim(build_py):
    """Copy ``configs/`` into ``mmpose_attn/.mim/`` of the built package, as
    OpenMMLab's ``add_mim_extension`` does for regular installs."""

    def run(self):
        super().run()
        dst = osp.join(self.build_lib, 'mmpose_attn', '.mim', 'configs')
        if osp.isdir('configs'):
            shutil.rmtree(dst, ignore_errors=True)
            shutil.copytree('configs', dst,
                            ignore=shutil.ignore_patterns('__pycache__'))


def link_mim_for_editable():
    """An editable install imports from the checkout: make ``.mim/configs``
    point at ``configs/`` there so mmengine's ``mmpose_attn::`` works too."""
    mim = osp.join('mmpose_attn', '.mim')
    link = osp.join(mim, 'configs')
    if not osp.exists(link) and osp.isdir('configs'):
        os.makedirs(mim, exist_ok=True)
        os.symlink(osp.relpath('configs', mim), link)


link_mim_for_editable()

setup(
    name='mmpose_attn',
    version=get_version(),
    description='Attention-based pose estimation (SPCNet, SADI-Net, SG-HRNet, '
    'SAMKR) for MMPose 1.x',
    long_description=readme(),
    long_description_content_type='text/markdown',
    packages=find_packages(exclude=('configs', 'tests', 'tests.*')),
    include_package_data=True,
    package_data={'mmpose_attn': ['.mim/configs/**/*']},
    cmdclass={'build_py': BuildWithMim},
    python_requires='>=3.8',
    license='Apache License 2.0',
    zip_safe=False,
)
