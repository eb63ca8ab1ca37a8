"""A feed that fills itself: followed sources (arXiv categories and archives, arXiv searches,
Hugging Face daily papers), synced on demand (`paperfeed sync`), by `serve`'s scheduler or by a
job queue, each sync recorded with its outcome.

sources.py  what can be followed, validated     fetch.py     what one sync of a source fetches
service.py  runs syncs (one at a time), status  schedule.py  when `serve` syncs, and backing off
"""
