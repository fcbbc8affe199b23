"""dsl.ExitHandler with PipelineTaskFinalStatus: the exit task runs whether the guarded tasks
succeed or fail, and sees the run's final status."""

from kfp import dsl
from kfp.dsl import PipelineTaskFinalStatus


@dsl.component(base_image="python:3.11")
def notify(status: PipelineTaskFinalStatus, channel: str) -> str:
    # Job names and timestamps vary by run; the state and the failed tasks do not.
    message = f"{channel}: {status.state}"
    print(message, status.pipeline_job_resource_name, status.error_code, status.error_message)
    return message


@dsl.component(base_image="python:3.11")
def work(text: str) -> str:
    return text[::-1]


@dsl.component(base_image="python:3.11")
def fail_with(message: str):
    raise RuntimeError(message)


@dsl.pipeline(name="exit-handler-success")
def exit_handler_success(text: str = "stressed"):
    """KFP docs' exit handler: clean-up runs after the guarded tasks, which succeed."""
    exit_task = notify(channel="#ml")
    with dsl.ExitHandler(exit_task=exit_task, name="guarded work"):
        first = work(text=text)
        work(text=first.output)


@dsl.pipeline(name="exit-handler-failure")
def exit_handler_failure(message: str = "boom"):
    """A guarded task fails: the exit task still runs and sees FAILED; the run fails."""
    exit_task = notify(channel="#alerts")
    with dsl.ExitHandler(exit_task=exit_task):
        failing = fail_with(message=message)
        work(text="never").after(failing)


@dsl.component(base_image="python:3.11")
def cleanup(note: str) -> str:
    return f"cleaned {note}"


@dsl.pipeline(name="exit-handler-plain-task")
def exit_handler_plain_task(note: str = "tmp"):
    """An exit task that takes no status, only ordinary inputs."""
    with dsl.ExitHandler(exit_task=cleanup(note=note)):
        work(text=note)


@dsl.pipeline(name="notify-twice")
def notify_twice(channel: str) -> str:
    first = cleanup(note=channel)
    return cleanup(note=first.output).output


@dsl.pipeline(name="exit-handler-pipeline-task")
def exit_handler_pipeline_task(note: str = "run"):
    """The exit task is itself a pipeline."""
    with dsl.ExitHandler(exit_task=notify_twice(channel=note)):
        work(text=note)
