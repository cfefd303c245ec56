"""City government service hall backend."""
