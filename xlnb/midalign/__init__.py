"""MidAlign training experiments (§3-6): the systems of Table 2 and their variants, their
aggregate tables and figures. The retrieval diagnostic of §2 lives in :mod:`xlnb.layerwise`
and :mod:`xlnb.metrics`; the training core in :mod:`xlnb.train`."""
