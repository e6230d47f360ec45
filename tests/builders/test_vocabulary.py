"""One vocabulary of structure names: every spec uses it; source spellings normalise to it."""

import pytest

from medbench.builders.vgmed.sources import SOURCES
from medbench.builders.vgmed.vocabulary import is_canonical, normalise_name


@pytest.mark.parametrize(
    ("raw", "name"),
    [
        ("kidney_right", "right kidney"),
        ("Right Kidney", "right kidney"),
        ("arota", "aorta"),
        ("postcava", "inferior vena cava"),
        ("Head_of_femur_L", "left femoral head"),
        ("lung_upper_lobe_left", "left lung upper lobe"),
        ("Brain Edema", "brain edema"),
        ("rib_left_3", "left rib 3"),
        ("gall bladder", "gallbladder"),
        ("non-enhancing tumor", "non-enhancing tumor"),
    ],
)
def test_normalise_by_hand(raw, name):
    assert normalise_name(raw) == name


def _names(spec):
    names = list(spec.labels.values())
    if isinstance(getattr(spec, "label", None), str):
        names.append(spec.label)
    names += list(getattr(spec, "mask_ranges", {}) or {})
    names += list(spec.channel_for_label)
    return names


def test_every_registered_name_is_in_the_vocabulary():
    bad = [(spec.id, n) for spec in SOURCES.values() for n in _names(spec) if not is_canonical(n)]
    assert bad == []


def test_a_non_canonical_name_is_caught():
    assert not is_canonical("kidney_right")
    assert not is_canonical("Liver")
    assert not is_canonical("arota")
