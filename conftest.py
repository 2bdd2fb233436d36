"""pytest runs in quick mode (small subsets, few epochs) unless VAELIB_QUICK says otherwise: the same
`python -m pytest` on every system, with no environment variable to set first."""

import os

os.environ.setdefault("VAELIB_QUICK", "1")
