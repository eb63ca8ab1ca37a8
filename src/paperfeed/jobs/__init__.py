"""Background work as jobs of a task queue over the store's PostgreSQL (procrastinate).

A face, like cli/ and web/: it turns jobs into PaperFeed calls. ``paperfeed worker`` processes,
on any number of machines, run them; any process defers them through ``store.job_queue``
(a web request adds a row and answers). Each job runs once (procrastinate takes it with
``FOR UPDATE SKIP LOCKED``), failed ones are retried with backoff, the jobs of a worker that
died are retried by another, and the periodic schedules are defined once, in tasks.py.

tasks.py   the tasks and their schedules    worker.py   running a worker process
"""
