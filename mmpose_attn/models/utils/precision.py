"""Float32 islands for mixed-precision training (``--amp``).

mmengine's ``AmpOptimWrapper`` runs the forward pass under ``torch.autocast``
(float16 on CUDA, bfloat16 on CPU). Softmaxes over thousands of positions,
log-densities, exponentials of loss ratios and BCE lose too much precision
there, so the modules that compute them run those parts in float32.
"""
import functools

import torch


def _to_float32(obj):
    if torch.is_tensor(obj) and obj.is_floating_point():
        return obj.float()
    if isinstance(obj, (tuple, list)):
        return type(obj)(_to_float32(o) for o in obj)
    if isinstance(obj, dict):
        return {k: _to_float32(v) for k, v in obj.items()}
    return obj


def _first_tensor(objs):
    for obj in objs:
        if torch.is_tensor(obj):
            return obj
        if isinstance(obj, (tuple, list)):
            found = _first_tensor(obj)
            if found is not None:
                return found
        if isinstance(obj, dict):
            found = _first_tensor(obj.values())
            if found is not None:
                return found
    return None


def float32_under_autocast(fn):
    """Decorate ``fn`` so that, under autocast, it runs with autocast off and
    its floating-point tensor arguments (also inside tuples, lists and dicts)
    cast to float32.

    Outside autocast ``fn`` is called unchanged, so float64 reference tests
    and plain float32 training see exactly the undecorated function. The
    device type is taken from the first tensor argument.
    """

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        tensor = _first_tensor(list(args) + list(kwargs.values()))
        if tensor is None:
            return fn(*args, **kwargs)
        device_type = tensor.device.type
        if not torch.is_autocast_enabled(device_type):
            return fn(*args, **kwargs)
        with torch.autocast(device_type=device_type, enabled=False):
            return fn(*_to_float32(args), **_to_float32(kwargs))

    return wrapper
