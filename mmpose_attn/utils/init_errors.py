"""Name our class, not its MMPose parent, in a misspelt-keyword error.

Our subclasses pass ``**kwargs`` on to their MMPose parents, so a typo in a
config (``SAMKRHead(num_keypont=17)``) surfaced as ``DEKRHead.__init__() got
an unexpected keyword argument``, naming a class the config never mentions.
"""
import functools
import re

_UNEXPECTED = re.compile(
    r"^(\w+)\.__init__\(\) got an unexpected keyword argument '(\w+)'$")


def name_class_in_init_errors(cls: type) -> type:
    """Wrap ``cls.__init__`` so that an unexpected-keyword ``TypeError``
    raised by a parent's ``__init__`` names ``cls``. Idempotent; other
    errors, and instances of unwrapped subclasses, pass unchanged.

    Args:
        cls (type): A class that forwards keywords to its parents.

    Returns:
        type: ``cls``, modified in place.
    """
    init = cls.__init__
    if getattr(init, '_names_class', None) is cls:
        return cls
    parents = {c.__name__ for c in cls.__mro__[1:]}

    @functools.wraps(init)
    def __init__(self, *args, **kwargs):
        try:
            init(self, *args, **kwargs)
        except TypeError as e:
            found = _UNEXPECTED.match(str(e))
            if type(self) is not cls or not found or \
                    found.group(1) not in parents:
                raise
            raise TypeError(
                f'{cls.__name__}.__init__() got an unexpected keyword '
                f"argument '{found.group(2)}' (passed on to "
                f'{found.group(1)}.__init__(), which does not take it '
                'either)') from e

    __init__._names_class = cls
    cls.__init__ = __init__
    return cls


def name_classes_in_init_errors(*registries) -> None:
    """Apply :func:`name_class_in_init_errors` to every class of this
    package in ``registries`` (mmengine ``Registry`` objects)."""
    for registry in registries:
        for cls in registry.module_dict.values():
            if isinstance(cls, type) and cls.__module__.startswith(
                    'mmpose_attn.'):
                name_class_in_init_errors(cls)
