"""Name → class registries for optimizers, losses and schedulers: explicit lookups, never eval."""
from __future__ import annotations

import inspect

import torch
from torch import nn

from .errors import choice_error


def _subclasses_in(module, base: type) -> dict[str, type]:
    return {
        name: obj
        for name, obj in vars(module).items()
        if inspect.isclass(obj) and issubclass(obj, base) and obj is not base and not name.startswith("_")
    }


OPTIMIZERS: dict[str, type] = _subclasses_in(torch.optim, torch.optim.Optimizer)
LOSSES: dict[str, type] = {
    name: cls for name, cls in _subclasses_in(nn, nn.modules.loss._Loss).items() if not name.startswith("_")
}
_TORCH_SCHEDULERS = _subclasses_in(torch.optim.lr_scheduler, torch.optim.lr_scheduler.LRScheduler)
# Warmup schedules from transformers need the round's step count, which the engine supplies.
WARMUP_SCHEDULERS = ("linear", "cosine", "constant_with_warmup")
SCHEDULERS: dict[str, object] = {**_TORCH_SCHEDULERS, **{name: name for name in WARMUP_SCHEDULERS}}
# Schedulers that need arguments the engine cannot infer are refused up front.
_UNSUPPORTED_SCHEDULERS = {"LambdaLR", "MultiplicativeLR", "SequentialLR", "ChainedScheduler", "ReduceLROnPlateau"}
for _name in _UNSUPPORTED_SCHEDULERS:
    SCHEDULERS.pop(_name, None)


def tensor_kwargs(kwargs: dict) -> dict:
    """Loss kwargs such as class `weight` arrive as lists from YAML; losses need tensors."""
    return {k: torch.tensor(v, dtype=torch.float32) if isinstance(v, list) else v for k, v in kwargs.items()}


def build_criterion(name: str, kwargs: dict) -> nn.Module:
    return LOSSES[name](**tensor_kwargs(kwargs))


def required_kwargs(target) -> list[str]:
    """Constructor arguments without a default, besides the optimizer/params the engine passes."""
    return [n for n, p in inspect.signature(target).parameters.items()
            if p.default is inspect.Parameter.empty and n not in ("self", "params", "optimizer")
            and p.kind not in (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)]


def resolve(field: str, name: str, table: dict):
    """table[name], or a ConfigError naming `field`, the value and the valid names."""
    if not isinstance(name, str) or name not in table:
        raise choice_error(field, name, table)
    return table[name]


def check_kwargs(field: str, target, kwargs: dict, skip: tuple[str, ...] = ()) -> None:
    """Refuse keyword arguments that `target`'s constructor does not take."""
    params = inspect.signature(target).parameters
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()):
        return
    allowed = [n for n in params if n not in skip and n not in ("self", "params", "optimizer")]
    for key in kwargs:
        if key not in params:
            raise choice_error(f"{field} key", key, allowed)
