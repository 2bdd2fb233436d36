"""What only the notebooks use: figures.py (their figures), tables.py (their tables), live.py (loss curves and
reconstructions redrawn while a notebook trains) and explorer.py (the ipywidgets latent-space explorers)."""
