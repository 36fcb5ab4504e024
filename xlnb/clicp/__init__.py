"""CL-ICP (*Rethinking Alignment in Cross-Lingual Knowledge Transfer*): the toy regression
of §3.2 (eq. 2, Fig. 1) and token-level representation alignment of §4 / App. B (Fig. 2)."""
