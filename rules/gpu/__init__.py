"""Unmanaged GPU handoffs (IL4xx).

In a training system the trainer, evaluation, parallel workers and checkpointing share
models and tensors. When one of them moves a shared model between devices,
synchronises the GPU with the host, or flips a shared model's train/eval mode on its
own, the others break at run time. These rules find such handoffs by reading code.

*Managed* code owns devices: scopes matching ``[tool.integ-lint.gpu] managers`` (class
names, qualname globs such as ``*.ModelManager``, path globs such as
``pkg/devices.py``), test paths and script paths. IL401-IL404 stay silent there (an
explicit ``hot-paths`` scope still gets IL403). IL405 and IL406 are about the data, not
about who owns the device, so they apply everywhere but tests. ``torch`` is resolved
through imports and aliases; no rule fires in a file that never imports torch unless
the receiver is annotated with a torch type.

One module per concern: ``placement`` (IL401 device transfers outside the owner, IL402
hard-coded accelerators, IL405 ``torch.load`` without ``map_location``), ``syncs``
(IL403 host syncs in loops and hot paths), ``handoffs`` (IL404 train/eval mode of
modules the function does not own, IL406 CUDA state across processes); ``base`` holds
what they share. The torch vocabulary and the facts are :mod:`integ_lint.facts.torch`
and :mod:`integ_lint.facts.gpu`; the allowlist is :mod:`integ_lint.config.gpu_allowlist`.
"""
