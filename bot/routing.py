"""The routers' tree, flattened where that keeps every update's handler (issue 15, dispatch pass).

aiogram visits routers one by one: for each router an update passes, it wraps the router's
outer middlewares (a ``functools.wraps`` closure even when there are none), checks the router's
own filters, tries its handlers, then does the same for each child, copying the update's data
dict (~30 keys) four or five times per level. A citizen's message passed 15 to 17 routers before
its handler, most of them a module's own router inside an audience's parent (~9 % of the CPU of
a form step, py-spy of bench/concurrency.py).

``flatten(parent)`` moves the handlers of ``parent``'s children into ``parent`` itself, in the
order aiogram would have tried them: ``parent``'s own handlers, then each child's, child after
child, each child's handlers in their order, its children's after them. A child's own filters
(``r.message.filter(...)``) go in front of each of its handlers' filters, so a handler runs on
exactly the updates it ran on before; a filter that ``parent`` already checks (the same object,
e.g. ``PRIVATE_CHAT``) is not checked twice. The module routers stay what they are in the
source (one per feature, built by its ``router()``); only the tree the dispatcher walks is
flatter. ``tests/handlers/test_routing_pinned.py`` pins which handler takes which update.

A child with something that belongs to it as a router (middlewares, start-up or shutdown
handlers) cannot be flattened without changing what runs: ``flatten`` refuses it.
"""

from __future__ import annotations

from aiogram import Router
from aiogram.dispatcher.event.handler import FilterObject


def flatten(parent: Router) -> Router:
    """Move every router under ``parent`` into ``parent``'s own handlers, in aiogram's order."""
    for child in list(parent.sub_routers):
        flatten(child)
        _refuse_what_would_be_lost(child)
        for name, observer in child.observers.items():
            # What the parent's own filters check, the parent has checked before any of these.
            checked = parent.observers[name]._handler.filters or []
            guard = [f for f in child.observers[name]._handler.filters or [] if not _among(f, checked)]
            target = parent.observers[name].handlers
            for handler in observer.handlers:
                handler.filters = [*guard, *(handler.filters or [])]
                target.append(handler)
            observer.handlers.clear()
        parent.sub_routers.remove(child)
        child._parent_router = None
    return parent


def _among(candidate: FilterObject, filters: list[FilterObject]) -> bool:
    for f in filters:
        if candidate.magic is not None and candidate.magic is f.magic:
            return True
        if candidate.magic is None and candidate.callback is f.callback:
            return True
    return False


def _refuse_what_would_be_lost(child: Router) -> None:
    if child.sub_routers:  # pragma: no cover - flatten() empties them first
        raise ValueError(f"{child}: its routers were not flattened")
    for name, observer in child.observers.items():
        if len(observer.middleware) or len(observer.outer_middleware):
            raise ValueError(f"{child}: {name} middlewares would no longer run if it were flattened")
    if child.startup.handlers or child.shutdown.handlers:
        raise ValueError(f"{child}: its start-up or shutdown handlers would be lost if it were flattened")
