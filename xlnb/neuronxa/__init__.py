"""NeuronXA: FFN neuron states as sentence representations (NASCA / NAVCA) and the
analyses of its tables and figures. The scores themselves are :mod:`xlnb.alignment` and
:mod:`xlnb.metrics`; this folder holds what is specific to the paper's notebooks."""
