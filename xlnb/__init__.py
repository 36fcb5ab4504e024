"""xlnb: reproducible notebooks on cross-lingual alignment inside decoder-only LLMs.

The package holds the model-touching code (``models``, ``reps``), pure metrics on tensors
(``xlnb.metrics``), data loaders (``xlnb.data``) and the papermill runner (``run``).
"""

__version__ = "0.1.0"
