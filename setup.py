"""mmpose_attn: attention-based human pose estimation methods for MMPose 1.x.

Install with ``bash scripts/setup_env.sh`` (it installs the pinned OpenMMLab
stack first; see README). The configs and the model index travel inside the
package as ``mmpose_attn/.mim/{configs,model-index.yml}`` so that
``mmpose_attn::spcnet/...`` and ``mim search mmpose_attn`` work from regular
installs; editable installs link them to the checkout. The sample images
(``mmpose_attn/data/mmpose_samples``) are package data.
"""
import os
import os.path as osp
import shutil

from setuptools import find_packages, setup
from setuptools.command.build_py import build_py


def readme():
    with open('README.md', encoding='utf-8') as f:
        return f.read()


def read_requirements(path):
    """Requirement lines of ``path``, comments and blank lines dropped
    (none where the file is absent, e.g. building from an sdist)."""
    if not osp.isfile(path):
        return []
    with open(path, encoding='utf-8') as f:
        lines = (line.split('#')[0].strip() for line in f)
        return [line for line in lines if line]


def get_version():
    scope = {}
    with open(osp.join('mmpose_attn', 'version.py'), encoding='utf-8') as f:
        exec(f.read(), scope)
    return scope['__version__']


# What mim and mmengine look for in ``<package>/.mim/``.
MIM_FILES = ('configs', 'model-index.yml')


class BuildWithMim(build_py):
    """Copy ``configs/`` and ``model-index.yml`` into ``mmpose_attn/.mim/``
    of the built package, as OpenMMLab's ``add_mim_extension`` does for
    regular installs."""

    def run(self):
        super().run()
        mim = osp.join(self.build_lib, 'mmpose_attn', '.mim')
        os.makedirs(mim, exist_ok=True)
        for name in MIM_FILES:
            dst = osp.join(mim, name)
            if osp.isdir(name):
                shutil.rmtree(dst, ignore_errors=True)
                shutil.copytree(name, dst,
                                ignore=shutil.ignore_patterns('__pycache__'))
            elif osp.isfile(name):
                shutil.copyfile(name, dst)


def link_mim_for_editable():
    """An editable install imports from the checkout: make ``.mim/configs``
    and ``.mim/model-index.yml`` point at the checkout's, so mmengine's
    ``mmpose_attn::`` and ``mim search`` work too."""
    mim = osp.join('mmpose_attn', '.mim')
    for name in MIM_FILES:
        link = osp.join(mim, name)
        if not osp.lexists(link) and osp.exists(name):
            os.makedirs(mim, exist_ok=True)
            os.symlink(osp.relpath(name, mim), link)


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
    package_data={
        'mmpose_attn': ['.mim/configs/**/*', '.mim/model-index.yml'],
        'mmpose_attn.data': ['mmpose_samples/*/*', 'mmpose_samples/*.md'],
    },
    # The stack is installed by scripts/setup_env.sh (no-deps installs);
    # numpy is bounded here too because numpy 2.4 breaks MMPose 1.3.2's
    # keypoint drawing (requirements/constraints.txt).
    install_requires=['numpy>=2,<2.4'],
    # ONNX export and ONNX Runtime inference (mmpose_attn/tools/deployment)
    extras_require={'deploy': read_requirements('requirements/deploy.txt')},
    cmdclass={'build_py': BuildWithMim},
    python_requires='>=3.8',
    license='Apache License 2.0',
    zip_safe=False,
)
