"""PATCH semantics by Content-Type: JSON patch, JSON merge patch, strategic merge patch, apply.

The strategic merge is what makes `kubectl set env`-style bodies keep a container's image: lists with
a patch merge key are merged item by item instead of replaced wholesale (which is what merge-patch does).
"""

from __future__ import annotations

import copy
from typing import Any

import jsonpatch
import jsonpointer

from .errors import KubeError

JSON_PATCH = "application/json-patch+json"
MERGE_PATCH = "application/merge-patch+json"
STRATEGIC_MERGE_PATCH = "application/strategic-merge-patch+json"
APPLY_PATCH = "application/apply-patch+yaml"
PATCH_TYPES = (JSON_PATCH, MERGE_PATCH, STRATEGIC_MERGE_PATCH, APPLY_PATCH)

# Field name -> patch merge key, as declared by `patchMergeKey` in the Kubernetes API types. The field
# name alone is enough for the kinds we serve; `ports` is resolved per item (Service ports use `port`).
_MERGE_KEYS = {
    "containers": "name",
    "initContainers": "name",
    "ephemeralContainers": "name",
    "env": "name",
    "volumes": "name",
    "imagePullSecrets": "name",
    "volumeMounts": "mountPath",
    "volumeDevices": "devicePath",
    "conditions": "type",
    "ownerReferences": "uid",
    "hostAliases": "ip",
    "topologySpreadConstraints": "topologyKey",
    "resourceClaims": "name",
}

_DIRECTIVE = "$patch"


def json_patch(target: dict[str, Any], operations: Any) -> dict[str, Any]:
    """RFC 6902; a failing op (missing path, failed test) is a 422 like the apiserver's."""
    if not isinstance(operations, list):
        raise KubeError(400, "json patch body must be a JSON array of operations")
    try:
        result = jsonpatch.apply_patch(target, operations, in_place=False)
    except (jsonpatch.JsonPatchException, jsonpointer.JsonPointerException, TypeError, KeyError) as exc:
        raise KubeError(422, f"the server rejected our request due to an error in our request: {exc}") \
            from exc
    if not isinstance(result, dict):
        raise KubeError(422, "json patch must leave an object")
    return result


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386: objects merge recursively, `null` deletes, everything else (lists too) replaces."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = copy.deepcopy(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def strategic_merge_patch(target: Any, patch: Any) -> Any:
    """Merge patch plus keyed list merges and the `$patch` / `$deleteFromPrimitiveList` directives."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    directive = patch.get(_DIRECTIVE)
    if directive == "delete":
        return None
    if directive == "replace":
        return _strip_directives(patch)
    if directive is not None:
        raise KubeError(400, f"unknown patch type: {directive!r}")
    result = copy.deepcopy(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if key.startswith(("$setElementOrder/", "$retainKeys")):
            continue  # ordering hints and retain lists only shape the result; we keep patch order
        if key.startswith("$deleteFromPrimitiveList/"):
            _delete_from_primitive_list(result, key.partition("/")[2], value)
            continue
        if value is None:
            result.pop(key, None)
            continue
        merged = _merge_field(key, result.get(key), value)
        if merged is None:
            result.pop(key, None)
        else:
            result[key] = merged
    return result


def _merge_field(key: str, current: Any, value: Any) -> Any:
    if isinstance(value, list):
        merge_key = _merge_key_for(key, value)
        if merge_key is not None:
            return _merge_keyed_list(current if isinstance(current, list) else [], value, merge_key)
        return [_strip_directives(item) for item in value]
    return strategic_merge_patch(current, value)


def _merge_key_for(field: str, items: list[Any]) -> str | None:
    if field == "ports":
        dict_items = [i for i in items if isinstance(i, dict)]
        if dict_items and all("containerPort" in i for i in dict_items if i.get(_DIRECTIVE) is None):
            return "containerPort"
        return "port"
    return _MERGE_KEYS.get(field)


def _merge_keyed_list(current: list[Any], patch_items: list[Any], merge_key: str) -> list[Any]:
    if any(isinstance(i, dict) and i.get(_DIRECTIVE) == "replace" for i in patch_items):
        return [_strip_directives(i) for i in patch_items if not (isinstance(i, dict) and _DIRECTIVE in i
                                                                 and len(i) == 1)]
    result = copy.deepcopy(current)
    for item in patch_items:
        if not isinstance(item, dict):
            result.append(copy.deepcopy(item))
            continue
        if merge_key not in item:
            raise KubeError(400, f"map: {item} does not contain declared merge key: {merge_key}")
        index = next(
            (i for i, existing in enumerate(result)
             if isinstance(existing, dict) and existing.get(merge_key) == item[merge_key]),
            None,
        )
        if item.get(_DIRECTIVE) == "delete":
            if index is not None:
                del result[index]
        elif index is None:
            result.append(_strip_directives(item))
        else:
            result[index] = strategic_merge_patch(result[index], item)
    return result


def _delete_from_primitive_list(result: dict[str, Any], field: str, values: Any) -> None:
    if isinstance(result.get(field), list) and isinstance(values, list):
        result[field] = [v for v in result[field] if v not in values]


def _strip_directives(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _strip_directives(v) for k, v in value.items() if not k.startswith("$")}
    if isinstance(value, list):
        return [_strip_directives(v) for v in value]
    return value


def apply_patch(target: dict[str, Any], patch: Any) -> dict[str, Any]:
    """Server-side apply, approximated: a strategic merge of the applied configuration.

    Real SSA also removes fields this manager applied before and no longer lists; the bot only ever
    applies whole manifests, so a keyed merge gives the same result for it.
    """
    if not isinstance(patch, dict):
        raise KubeError(400, "apply patch body must be an object")
    merged = strategic_merge_patch(target, patch)
    assert isinstance(merged, dict)
    return merged


def apply_by_content_type(content_type: str, target: dict[str, Any], patch: Any) -> dict[str, Any]:
    if content_type == JSON_PATCH:
        return json_patch(target, patch)
    if not isinstance(patch, dict):
        raise KubeError(400, f"{content_type} body must be a JSON object")
    if content_type == MERGE_PATCH:
        merged = merge_patch(target, patch)
    elif content_type == STRATEGIC_MERGE_PATCH:
        merged = strategic_merge_patch(target, patch)
    elif content_type == APPLY_PATCH:
        merged = apply_patch(target, patch)
    else:
        raise unsupported_patch_type(content_type)
    assert isinstance(merged, dict)
    return merged


def unsupported_patch_type(content_type: str) -> KubeError:
    return KubeError(
        415,
        f"the body of the request was in an unknown format - accepted media types include: "
        f"{', '.join(PATCH_TYPES)}; got {content_type!r}",
    )
