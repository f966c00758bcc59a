"""The only modules that do I/O. Each returns small typed records and raises SourceError."""
