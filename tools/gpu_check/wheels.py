"""Download source distributions from a package index without building
them: ``python -m gpu_check.wheels DIR NAME==VERSION ...``.

``pip download`` prepares the metadata of every sdist it fetches, i.e. runs
its ``setup.py`` in an isolated build environment with the newest
setuptools; from setuptools 81 on that has no ``pkg_resources``, which
mmcv 2.1.0's ``setup.py`` imports, so the download fails. Here the file is
looked up in the index's JSON simple API (PEP 691; ``$PIP_INDEX_URL``,
default PyPI), fetched and checked against the index's sha256; it is built
later, on the GPU machine, against the setuptools installed there.
"""
import hashlib
import json
import os
import os.path as osp
import sys
import urllib.parse
import urllib.request
from typing import Tuple

INDEX_URL = 'https://pypi.org/simple/'
JSON_SIMPLE = 'application/vnd.pypi.simple.v1+json'


def find_sdist(page: dict, page_url: str, name: str,
               version: str) -> Tuple[str, str, str]:
    """``(url, sha256, file name)`` of ``name``'s ``version`` sdist in a
    PEP 691 project page."""
    wanted = f'{name}-{version}.tar.gz'.lower().replace('_', '-')
    for f in page.get('files', []):
        if f['filename'].lower().replace('_', '-') == wanted:
            sha = f.get('hashes', {}).get('sha256')
            if not sha:
                raise ValueError(f'{f["filename"]}: the index gives no sha256')
            return urllib.parse.urljoin(page_url, f['url']), sha, f['filename']
    raise LookupError(f'{page_url}: no sdist {wanted} among '
                      f'{len(page.get("files", []))} files')


def download(url: str, sha256: str, path: str) -> str:
    """Fetch ``url`` to ``path``; a sha256 other than ``sha256`` is an
    error and leaves no file."""
    with urllib.request.urlopen(url, timeout=300) as r:
        data = r.read()
    got = hashlib.sha256(data).hexdigest()
    if got != sha256:
        raise ValueError(f'{url}: sha256 {got}, the index says {sha256}')
    with open(path, 'wb') as f:
        f.write(data)
    return path


def fetch_sdist(spec: str, out_dir: str,
                index_url: str = '') -> str:
    """Download the sdist of ``spec`` (``name==version``) into ``out_dir``
    (kept when already there with the right hash)."""
    name, _, version = spec.partition('==')
    if not version:
        raise ValueError(f'{spec}: expected NAME==VERSION')
    index_url = index_url or os.environ.get('PIP_INDEX_URL') or INDEX_URL
    page_url = f'{index_url.rstrip("/")}/{name.lower()}/'
    request = urllib.request.Request(page_url, headers={'Accept': JSON_SIMPLE})
    with urllib.request.urlopen(request, timeout=60) as r:
        kind = r.headers.get_content_type()
        if kind != JSON_SIMPLE:
            raise RuntimeError(f'{page_url} answers {kind}, not the JSON '
                               'simple API (PEP 691)')
        page = json.load(r)
    url, sha, filename = find_sdist(page, page_url, name, version)
    path = osp.join(out_dir, filename)
    if osp.isfile(path):
        with open(path, 'rb') as f:
            if hashlib.sha256(f.read()).hexdigest() == sha:
                return path
    return download(url, sha, path)


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    os.makedirs(argv[0], exist_ok=True)
    for spec in argv[1:]:
        print(f'saved {fetch_sdist(spec, argv[0])}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
