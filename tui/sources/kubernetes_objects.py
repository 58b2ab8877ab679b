"""Kubernetes API objects read straight from their JSON, by the official client's attribute names.

The official client turns every answer into pydantic models: a pod list builds some 140 model
classes the first time (0.3 s here, before the first memory value can be shown) and validates
every field of every pod on every read, for the dozen fields the dashboard looks at.
:class:`KubeObject` reads the JSON instead, under the same names the models use
(``pod.status.container_statuses`` is ``status.containerStatuses``), so
:mod:`tui.sources.kubernetes_parse` reads either: the models in the property tests, which check
that both give the same answers, and these views in the app.
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

MAP_FIELDS = frozenset({"labels", "annotations", "limits", "requests", "matchLabels", "nodeSelector"})
"""Fields holding string maps, not objects: returned as the plain ``dict`` the models give too."""


@lru_cache(maxsize=256)
def json_key(attribute: str) -> str:
    """The JSON field behind a model attribute: ``container_statuses`` -> ``containerStatuses``."""
    first, *rest = attribute.split("_")
    return first + "".join(part[:1].upper() + part[1:] for part in rest)


def _view(value: Any, key: str) -> Any:
    if isinstance(value, dict):
        return value if key in MAP_FIELDS else KubeObject(value)
    if isinstance(value, list):
        return [KubeObject(item) if isinstance(item, dict) else item for item in value]
    return value


class KubeObject:
    """A read-only view of one JSON object of the Kubernetes API.

    An attribute the object lacks is ``None``, as an unset optional field of a model is. Nested
    objects come back as views, lists as lists, string maps (labels, limits...) as dicts.
    """

    __slots__ = ("_fields",)

    def __init__(self, fields: dict[str, Any]) -> None:
        """Wrap ``fields`` (not copied: the view reads what the dict holds)."""
        object.__setattr__(self, "_fields", fields)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):  # copy, pickle and friends probe for dunders: do not answer None
            raise AttributeError(name)
        key = json_key(name)
        return _view(self._fields.get(key), key)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"{type(self).__name__} is read-only")

    def __eq__(self, other: object) -> bool:
        return isinstance(other, KubeObject) and self._fields == other._fields

    __hash__ = None  # type: ignore[assignment]  # mutable underneath, like the dict it views

    def __repr__(self) -> str:
        kind = self._fields.get("kind") or "object"
        name = (self._fields.get("metadata") or {}).get("name") if isinstance(self._fields.get("metadata"), dict) else None
        return f"KubeObject({kind}{f' {name}' if name else ''})"

    def to_dict(self) -> dict[str, Any]:
        """The JSON object underneath."""
        return self._fields


def read_object(body: bytes | str) -> KubeObject:
    """Parse an API answer that must be one JSON object.

    Raises:
        ValueError: The body is not JSON, or JSON but not an object (a proxy's page, a cut answer).
    """
    parsed = json.loads(body)
    if not isinstance(parsed, dict):
        raise ValueError(f"expected a JSON object, got {type(parsed).__name__}")  # noqa: TRY004  # as json.loads does
    return KubeObject(parsed)
