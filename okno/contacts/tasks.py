"""Background work of the contacts domain; each task only delegates to a service."""

from django_tasks import task


@task()
def import_job_run_task(job_id: int) -> None:
    """Runs an uploaded import; safe to deliver twice (the job is claimed by a conditional UPDATE)."""
    from okno.contacts.imports import import_job_run

    import_job_run(job_id=job_id)


@task()
def import_job_inspect_task(job_id: int) -> None:
    """Reads an uploaded file (header, sample, row count) off the request path; safe to deliver twice."""
    from okno.contacts.imports import import_job_inspect

    import_job_inspect(job_id=job_id)


@task()
def export_job_run_task(job_id: int) -> None:
    """Writes a large export's file; safe to deliver twice (the job is claimed by a conditional UPDATE)."""
    from okno.contacts.export_jobs import export_job_run

    export_job_run(job_id=job_id)
