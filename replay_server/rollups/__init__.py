"""The insight rollups kept up to date as chunks are recorded: the page views'
facts (enrich/pagefacts.py) counted into per-day tables, in the transaction
that records the chunks, so every fact is counted exactly once."""
