"""The index engine of ``list_jobs``: select → order → page → materialise."""
