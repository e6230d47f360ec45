"""GMPG-ImaGenome (paper 002 sec. 3.4.1): Chest ImaGenome scene graphs + MIMIC-CXR reports →
grounding rows (sentence → zero, one or many anatomy boxes) after a three-stage cleanup.

Modules, in the order a graph meets them: ``scene_graph`` (streaming reader, folder or zip),
``inputs`` (splits, gold images, image sizes), ``leakage`` (MS-CXR), ``pairs`` (step 1,
inversion and boxes), ``regions`` + ``regions.yaml`` (hierarchy and its containment check),
``specificity`` (stage 1), ``negatives`` (stage 2), ``reports`` (stage 3 sentences), ``images``
(``--embed-images``), ``stats`` (funnel, table 2), ``build`` (rows go to
``medbench.builders.shards.ShardWriter``), ``report``, ``card``, ``cli``.
"""
