"""Stratified sampling: water-filling by hand, balance, caps, determinism."""

from collections import Counter

from medbench.builders.vgmed.extract import Candidate
from medbench.builders.vgmed.sampling import stratified_sample, water_fill


def test_water_fill_by_hand():
    assert water_fill([1, 10, 10], 15) == [1, 7, 7]
    assert water_fill([1, 10, 10], 100) == [1, 10, 10]
    assert water_fill([5, 5], 3) == [2, 1]
    assert water_fill([0, 4, 2], 5) == [0, 3, 2]
    assert water_fill([], 5) == []


def make(dataset, label, case, index):
    return Candidate(
        pair_id=f"{dataset}-{label}-{case}-{index}",
        dataset=dataset,
        case_id=case,
        label=label,
        source_label="1",
        channel="",
        slice_index=index,
        num_slices=10,
        box=(0, 0, 1, 1),
        box_mode="union",
        area=1,
        image_key=f"|{index}",
        image_width=8,
        image_height=8,
        image_bytes=100,
        modality="CT",
        body_part="abdomen",
        source_path="x",
        intensity="i",
        spacing=(1, 1, 1),
        source_size=(10, 8, 8),
        slice_axis="axial",
    )


def pool():
    candidates = []
    for case in range(20):  # a big dataset with two labels
        candidates += [make("Big", "liver", f"c{case}", i) for i in range(5)]
        candidates += [make("Big", "spleen", f"c{case}", i) for i in range(5)]
    candidates += [make("Small", "polyp", f"p{case}", 0) for case in range(4)]
    return candidates


def test_small_dataset_gives_its_surplus_to_the_others():
    picked = stratified_sample(pool(), target=40, seed=0)
    per_dataset = Counter(c.dataset for c in picked)
    assert per_dataset == {"Small": 4, "Big": 36}
    per_label = Counter(c.label for c in picked if c.dataset == "Big")
    assert per_label == {"liver": 18, "spleen": 18}


def test_cap_per_label_is_respected():
    picked = stratified_sample(pool(), target=1000, cap_per_label=7, seed=0)
    assert max(Counter((c.dataset, c.label) for c in picked).values()) == 7


def test_picks_rotate_over_cases():
    picked = stratified_sample(pool(), target=40, seed=0)
    liver_cases = Counter(c.case_id for c in picked if c.label == "liver")
    assert len(liver_cases) == 18  # 18 picks over 20 cases: never two from one case


def test_same_seed_same_sample_other_seed_differs():
    ids = [c.pair_id for c in stratified_sample(pool(), target=20, seed=3)]
    assert ids == [c.pair_id for c in stratified_sample(pool(), target=20, seed=3)]
    assert ids != [c.pair_id for c in stratified_sample(pool(), target=20, seed=4)]


def test_input_order_does_not_matter():
    candidates = pool()
    forward = [c.pair_id for c in stratified_sample(candidates, target=25, seed=1)]
    backward = [c.pair_id for c in stratified_sample(candidates[::-1], target=25, seed=1)]
    assert forward == backward


def test_modalities_and_body_parts_are_balanced_first():
    from dataclasses import replace

    candidates = [make("CTset", "liver", f"c{i}", 0) for i in range(50)]
    candidates += [
        replace(make("MRset", "edema", f"m{i}", 0), modality="MR", body_part="head and neck")
        for i in range(50)
    ]
    candidates += [
        replace(make("MRset2", "prostate", f"p{i}", 0), modality="MR", body_part="pelvis")
        for i in range(50)
    ]
    picked = stratified_sample(candidates, target=30, seed=0)
    assert Counter(c.modality for c in picked) == {"CT": 15, "MR": 15}
    mr_parts = Counter(c.body_part for c in picked if c.modality == "MR")
    assert sorted(mr_parts.values()) == [7, 8]
