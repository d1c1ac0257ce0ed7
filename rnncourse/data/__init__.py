"""Package data for rnncourse: the character corpus (corpus.txt) and its generator."""
