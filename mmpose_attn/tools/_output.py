"""Output-file helpers shared by this package's tools: never overwrite a
file the user made unless ``--force`` is given."""
import argparse
import pathlib
from typing import Union


def add_force_argument(parser: argparse.ArgumentParser) -> None:
    """Add ``--force`` to a tool's argument parser.

    Args:
        parser (argparse.ArgumentParser): the tool's parser.
    """
    parser.add_argument(
        '--force',
        action='store_true',
        help='overwrite existing output files')


def check_output_path(path: Union[str, pathlib.Path],
                      force: bool) -> pathlib.Path:
    """Check that ``path`` may be written and create its parent folders.

    Args:
        path (str | pathlib.Path): the file a tool is about to write.
        force (bool): whether an existing file may be overwritten.

    Returns:
        pathlib.Path: ``path`` as a :class:`pathlib.Path`.

    Raises:
        FileExistsError: ``path`` exists and ``force`` is False.
    """
    out = pathlib.Path(path)
    if out.exists() and not force:
        raise FileExistsError(f'{path} exists: pass --force to overwrite it')
    out.parent.mkdir(parents=True, exist_ok=True)
    return out
