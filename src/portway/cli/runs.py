"""`portway runs list|show|logs|watch|stop`: runs after they start, locally, on Argo or on KFP."""

from __future__ import annotations

import sys

from portway import exitcodes

TARGETS = ("local", "argo", "kfp")


def register(subparsers) -> None:
    from portway.cli.submit import add_server_arguments

    runs = subparsers.add_parser(
        "runs", help="list, show, follow, read the logs of, and stop runs (local, Argo, KFP)",
        description="Runs after they start: local runs (the folders `portway run` writes), Argo workflows "
                    "(Argo server API) and KFP runs (kfp.Client), with one table and --json.")
    actions = runs.add_subparsers(dest="runs_command", metavar="ACTION", required=True)

    def action(name: str, text: str, with_id: bool = True):
        parser = actions.add_parser(name, help=text)
        if with_id:
            parser.add_argument("run", help="run id (local), workflow name (argo) or run id (kfp)")
        parser.add_argument("--target", choices=TARGETS, default="local", help="where the run is (default: local)")
        parser.add_argument("--runs-dir", default="runs", help="local runs folder (default: runs)")
        parser.add_argument("--namespace", "-n", default=None,
                            help="namespace (argo: default $ARGO_NAMESPACE; kfp: the multi-user namespace)")
        add_server_arguments(parser)
        parser.add_argument("--token", default=None, help="bearer token (default: ARGO_TOKEN / KF_PIPELINES_TOKEN)")
        return parser

    listing = action("list", "runs, newest first", with_id=False)
    listing.add_argument("--limit", type=int, default=20, help="at most this many (default 20)")
    listing.add_argument("--pipeline", default=None, help="only runs of this pipeline")
    listing.add_argument("--json", action="store_true", help="print the runs as JSON")
    listing.set_defaults(func=_list)

    show = action("show", "one run: status, timing, steps")
    show.add_argument("--json", action="store_true", help="print the run as JSON")
    show.set_defaults(func=_show)

    logs = action("logs", "a run's log (local: pipeline.log; argo: every step's main container)")
    logs.add_argument("--follow", "-f", action="store_true", help="argo: keep streaming until the workflow ends")
    logs.add_argument("--json", action="store_true", help="print the log lines as JSON")
    logs.set_defaults(func=_logs)

    watch = action("watch", "follow a run to its end; exit 1 if it fails")
    watch.add_argument("--poll-seconds", type=float, default=5.0, help="status poll interval (default 5)")
    watch.add_argument("--timeout", type=float, default=None, help="give up after this many seconds (exit 1)")
    watch.add_argument("--json", action="store_true", help="print the final run as JSON")
    watch.set_defaults(func=_watch)

    stop = action("stop", "stop a running run (local: as Ctrl-C; argo: argo stop; kfp: terminate)")
    stop.add_argument("--json", action="store_true", help="print the run as JSON")
    stop.set_defaults(func=_stop)


def backend(args):
    """The runs of --target, with servers and credentials from the flags, else the environment."""
    from portway.submit import argo_namespace, argo_server_url, kfp_host, tls_verify

    if args.target == "local":
        from portway.runs.local import Local

        return Local(args.runs_dir)
    verify = tls_verify(args.insecure_skip_verify, args.ca_cert, args.target)
    if args.target == "argo":
        from portway.runs.argo import Argo

        return Argo(argo_server_url(args.server), argo_namespace(args.namespace), args.token, verify)
    from portway.runs.kfp import Kfp

    return Kfp(kfp_host(args.host), args.namespace, args.token, verify)


def _echo(args):
    # With --json, stdout holds only the JSON document; progress goes to stderr.
    stream = sys.stderr if getattr(args, "json", False) else sys.stdout
    return lambda text: print(text, file=stream, flush=True)


def _list(args) -> int:
    from portway.cli.models import print_json
    from portway.runs import runs_table

    runs = backend(args).list_runs(limit=args.limit, pipeline=args.pipeline)
    if args.json:
        print_json({"target": args.target, "runs": [r.to_json() for r in runs]})
    elif not runs:
        print(f"no runs ({args.target})")
    else:
        print(runs_table(runs))
    return exitcodes.OK


def _show(args) -> int:
    from portway.cli.models import print_json
    from portway.runs import run_text

    run = backend(args).show_run(args.run)
    if args.json:
        print_json(run.to_json())
    else:
        print(run_text(run))
    return exitcodes.OK


def _logs(args) -> int:
    from portway.cli.models import print_json

    entries = backend(args).logs(args.run, follow=args.follow)
    if args.json:
        print_json({"target": args.target, "run": args.run, "lines": list(entries)})
        return exitcodes.OK
    for entry in entries:  # printed as they arrive (--follow)
        pod = entry.get("podName", "")
        print(f"{pod}: {entry.get('content', '')}" if pod else entry.get("content", ""), flush=args.follow)
    return exitcodes.OK


def _watch(args) -> int:
    from portway.cli.models import print_json

    try:
        run = backend(args).watch(args.run, args.poll_seconds, args.timeout, _echo(args))
    except KeyboardInterrupt:
        print(f"\nstopped watching; run {args.run} keeps going (`portway runs stop {args.run}` stops it).",
              file=sys.stderr)
        return exitcodes.INTERRUPTED
    if args.json:
        print_json(run.to_json())
    return exitcodes.OK


def _stop(args) -> int:
    from portway.cli.models import print_json

    run = backend(args).stop(args.run, _echo(args))
    if args.json:
        print_json(run.to_json())
    return exitcodes.OK
