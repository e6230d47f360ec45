"""Derive HF ``Features`` and the Arrow schema from a pydantic row model.

A row model is the one definition of a table. Each field's Python type, optionally
narrowed with an ``Annotated`` marker below, maps to exactly one HF feature; the Arrow
schema is the one ``datasets`` itself derives from those features, so the Parquet files
we write are the files ``load_dataset`` expects.
"""

from __future__ import annotations

import types
import typing
from dataclasses import dataclass
from typing import Annotated, Any, Literal, get_args, get_origin

import pyarrow as pa
from datasets import Features, Image, List, Value
from pydantic import BaseModel


@dataclass(frozen=True)
class Dtype:
    """Narrow a scalar field to a specific HF dtype, e.g. ``Annotated[int, Dtype("int32")]``."""

    name: str


@dataclass(frozen=True)
class FixedLength:
    """A list field with a fixed length, e.g. a box: ``Annotated[list[float], FixedLength(4)]``."""

    length: int


class ImageBytes:
    """Marker: the field holds encoded image bytes (PNG/JPEG) stored as an HF ``Image``."""


IMAGE = ImageBytes()

_DEFAULT_DTYPES: dict[type, str] = {str: "string", int: "int64", float: "float64", bool: "bool"}


def _strip_optional(annotation: Any) -> Any:
    origin = get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in get_args(annotation) if a is not type(None)]
        if len(args) == 1:
            return args[0]
    return annotation


def feature_for(annotation: Any) -> Any:
    """Map one (possibly Annotated) Python type to an HF feature."""
    annotation = _strip_optional(annotation)
    markers: tuple[Any, ...] = ()
    if get_origin(annotation) is Annotated:
        annotation, *rest = get_args(annotation)
        markers = tuple(rest)
        annotation = _strip_optional(annotation)
    if any(isinstance(m, ImageBytes) for m in markers):
        return Image()
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return features_for(annotation)
    origin = get_origin(annotation)
    if origin is Literal:
        return Value("string")
    if origin is list:
        (item,) = get_args(annotation)
        length = next((m.length for m in markers if isinstance(m, FixedLength)), -1)
        return List(feature_for(item), length=length)
    if origin is dict:
        raise TypeError("dict fields are not table columns; use a nested BaseModel")
    dtype = next((m.name for m in markers if isinstance(m, Dtype)), None)
    if dtype is None:
        if annotation not in _DEFAULT_DTYPES:
            raise TypeError(f"no HF feature for {annotation!r}")
        dtype = _DEFAULT_DTYPES[annotation]
    return Value(dtype)


def features_for(model: type[BaseModel]) -> Features | dict:
    """HF features of a row model, in field order (nested models become dicts)."""
    hints = typing.get_type_hints(model, include_extras=True)
    feats = {name: feature_for(hints[name]) for name in model.model_fields}
    return Features(feats) if _is_row_model(model) else feats


def _is_row_model(model: type[BaseModel]) -> bool:
    return getattr(model, "__table_row__", False)


def arrow_schema_for(model: type[BaseModel]) -> pa.Schema:
    """The Arrow schema ``datasets`` derives from the model's features."""
    return Features(dict(features_for(model))).arrow_schema


def image_field_names(model: type[BaseModel]) -> list[str]:
    feats = features_for(model)
    return [name for name, feat in feats.items() if isinstance(feat, Image)]


def image_list_field_names(model: type[BaseModel]) -> list[str]:
    """Fields holding a list of images (``list[Annotated[bytes, IMAGE]]``)."""
    feats = features_for(model)
    return [
        name
        for name, feat in feats.items()
        if isinstance(feat, List) and isinstance(feat.feature, Image)
    ]


def to_arrow_row(row: BaseModel) -> dict[str, Any]:
    """A row model instance as the plain dict Arrow expects (images as {bytes, path})."""
    data = row.model_dump()
    for name in image_field_names(type(row)):
        value = data[name]
        data[name] = None if value is None else {"bytes": value, "path": None}
    for name in image_list_field_names(type(row)):
        # from the attribute, not the dump: a row may leave an empty list out of its dump
        data[name] = [{"bytes": value, "path": None} for value in getattr(row, name)]
    return data
