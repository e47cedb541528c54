"""The tidy stores in data/processed: each prepare stage reads raw files through sources/ and
writes parquet. Imports sources/ and config only."""
