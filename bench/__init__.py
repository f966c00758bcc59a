"""`make bench`: performance figures, printed. Measures; asserts nothing."""
