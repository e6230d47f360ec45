"""Med-VQA benchmarks (paper 001 sec. 4): VQA-RAD, SLAKE, PathVQA, PMC-VQA, OmniMedVQA and
MMMU Health & Medicine, read in their published formats (or from HuatuoGPT-Vision's combined
evaluation JSON) into ``VQARow`` Parquet shards, one dataset folder per benchmark.

One small reader module per benchmark (``vqa_rad``, ``slake``, ``pathvqa``, ``pmc_vqa``,
``omnimedvqa``, ``mmmu``, ``huatuo``); ``records`` holds the shared closed/open rules,
``build`` the pipeline, ``report`` the manifest, ``cli`` the ``medbench build vqa`` command.
"""
