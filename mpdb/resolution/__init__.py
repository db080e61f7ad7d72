"""Entity resolution: the same child recorded by several agencies (issue 12).

records.py turns a Child into the row the model compares, model.py loads and applies the trained
Splink model (models/child-v*.json), explain.py carries the per-comparison reasons stored on
POSSIBLY_SAME_AS, training.py (re)trains the model on synthetic data made for training, batch.py
is `mpdb resolve`. Nothing here merges records: proposals are for human review.
"""
