"""The GPU check's report, written section by section: each section goes to
stdout, to the markdown file (``--out``) and to the JSON file (``--json``)
as soon as it is measured, so that a crash in a later check keeps every
section measured before it. Pure Python: no torch."""
import json
import sys
from typing import Optional


class Report:
    """A markdown report with a JSON twin, grown one section at a time.

    Args:
        title (str): The report's first line (markdown heading).
        meta (dict): What the run was (device, iterations, ...); the JSON
            file holds it with ``sections``, ``ok`` and ``complete``.
        md_path (str, optional): The markdown file, truncated at once.
        json_path (str, optional): The JSON file, rewritten per section.
    """

    def __init__(self, title: str, meta: dict, md_path: Optional[str] = None,
                 json_path: Optional[str] = None):
        self.md_path, self.json_path = md_path, json_path
        self.data = dict(meta, sections=[], ok=True, complete=False)
        if md_path:
            open(md_path, 'w').close()
        self._write(title)

    @property
    def ok(self) -> bool:
        return self.data['ok']

    def add(self, name: str, markdown: str, result: dict, ok: bool) -> None:
        """Write one measured section now: its markdown and its ``result``
        (a JSON-able dict); ``ok=False`` fails the whole report."""
        self.data['sections'].append(dict(name=name, ok=ok, result=result))
        self.data['ok'] = self.data['ok'] and ok
        self._write(markdown)

    def finish(self, summary: str) -> None:
        """Mark the report complete, with a closing line."""
        self.data['complete'] = True
        self._write(summary)

    def _write(self, markdown: str) -> None:
        text = markdown.rstrip('\n') + '\n\n'
        sys.stdout.write(text)
        sys.stdout.flush()
        if self.md_path:
            with open(self.md_path, 'a') as f:
                f.write(text)
        if self.json_path:
            with open(self.json_path, 'w') as f:
                json.dump(self.data, f, indent=1, default=str)
