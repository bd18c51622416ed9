"""Whole stacks built from stack files: every stack file, the corpus, changes to a stack."""
