"""Task settings: environment variables, resources and accelerators, display names, caching on
and off, retries (a step that fails once and then succeeds)."""

from kfp import dsl


@dsl.component(base_image="python:3.11")
def read_env(names: list) -> dict:
    import os

    return {name: os.environ.get(name, "<unset>") for name in names}


@dsl.pipeline(name="env-vars")
def env_vars():
    task = read_env(names=["STAGE", "QUOTED", "EMPTY", "MISSING"])
    task.set_env_variable(name="STAGE", value="prod")
    task.set_env_variable(name="QUOTED", value="a 'b' \"c\" $d {{e}}")
    task.set_env_variable(name="EMPTY", value="")


@dsl.component(base_image="python:3.11")
def heavy_step(n: int) -> int:
    return sum(range(n))


@dsl.pipeline(name="resources-and-accelerators")
def resources_and_accelerators(n: int = 1000) -> int:
    """Requests, limits and a GPU: they shape the pod, not the result."""
    cpu = heavy_step(n=n).set_display_name("CPU step")
    cpu.set_cpu_request("500m").set_cpu_limit("1").set_memory_request("256Mi").set_memory_limit("1Gi")
    gpu = heavy_step(n=cpu.output).set_display_name("GPU step")
    gpu.set_accelerator_type("nvidia.com/gpu").set_accelerator_limit(1)
    return gpu.output


@dsl.component(base_image="python:3.11")
def stamp(label: str) -> str:
    return f"stamp:{label}"


@dsl.pipeline(name="caching-and-display-names")
def caching_and_display_names(label: str = "x"):
    """Caching left on, turned off per task, a custom cache key; display names with spaces and punctuation."""
    stamp(label=label).set_display_name("Cached stamp (default)")
    stamp(label=label).set_caching_options(enable_caching=False).set_display_name("Uncached stamp: always runs")
    stamp(label=label).set_caching_options(enable_caching=True, cache_key="stamp-v2").set_display_name("Keyed")


@dsl.component(base_image="python:3.11")
def flaky(state_dir: str, fail_times: int) -> int:
    """Fails its first `fail_times` attempts (counted in a file), then succeeds."""
    import os

    marker = os.path.join(state_dir, "attempts")
    attempts = int(open(marker).read()) + 1 if os.path.exists(marker) else 1
    with open(marker, "w") as f:
        f.write(str(attempts))
    if attempts <= fail_times:
        raise RuntimeError(f"attempt {attempts} fails on purpose")
    return attempts


@dsl.pipeline(name="retries")
def retries(state_dir: str, fail_times: int = 2) -> int:
    """set_retry: two failures, then success on the third attempt."""
    task = flaky(state_dir=state_dir, fail_times=fail_times)
    task.set_retry(num_retries=3, backoff_duration="0s", backoff_factor=1.0, backoff_max_duration="1s")
    task.set_caching_options(False)
    return task.output
