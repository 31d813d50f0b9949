"""Data quality: likely duplicates (dedup), merging two records into one (merge), stale
cards and their refresh tasks (stale), and the pages for all three (views)."""
