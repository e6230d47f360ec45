"""Layout replicas of the chest X-ray grounding benchmarks (MS-CXR, PadChest-GR, RSNA
Pneumonia, COVID Rural): tiny synthetic files in each source's real layout and format, with
the planted truth returned for tests. Not VGMED sources: not in ``medbench.demo.REPLICAS``.

Each module has ``write(root)`` (returns what it planted), ``source_root(root)`` (what
``--source-root`` gets) and ``image_root(root)`` (what ``--image-root`` gets).
"""
