"""Loading a case made of one file per channel plus one label-map file (families B, C)."""

from __future__ import annotations

from pathlib import Path

from medbench.builders.vgmed.case import CaseRef, LabelLayer, LoadedCase
from medbench.builders.vgmed.spec import (
    SourceSpec,
    check_aligned,
    check_image,
    read_label_volume,
    read_volume,
)
from medbench.imaging.volume import RawVolume


def load_channels_and_label(
    spec: SourceSpec, dataset_dir: Path, case: CaseRef, *, name_single_channel: bool
) -> LoadedCase:
    """Read every ``image:<channel>`` file and the ``label`` file, all on one voxel grid.

    ``name_single_channel=False`` files a lone channel under '' (the row's ``channel``
    column then stays empty, as for single-image sources).
    """
    label_path = dataset_dir / case.file("label")
    label = read_label_volume(label_path)
    channel_files = case.files_for("image:")
    images = {}
    for role, path in channel_files:
        image_path = dataset_dir / path
        image = read_volume(image_path)
        check_image(image_path, image)
        check_aligned(image_path, image, label_path, label)
        named = name_single_channel or len(channel_files) > 1
        images[role.split(":", 1)[1] if named else ""] = spec.display(image)
    names = spec.label_names()
    layer = LabelLayer(
        spec.display(RawVolume(label.data, label.affine)).array,
        names,
        {v: str(v) for v in names},
    )
    return LoadedCase(
        images=images,
        layers=[layer],
        source_path=";".join(p for _, p in channel_files),
        slice_axis=spec.slice_axis_name,
    )
