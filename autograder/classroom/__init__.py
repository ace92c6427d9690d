"""A class of submissions: batch grading over a pool or Dask, the gradebook, lateness, and the
cross-check of the engine against the oracle.
"""
