"""Framework-level (``fw``) rewrites: constant folding, batch-norm folding, conv fusion, DCE."""
