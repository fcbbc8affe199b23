"""`portway models`: list, show, approve, reject, compare and the approval events."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

REGISTRY_ENV = "PORTWAY_REGISTRY"
# The same default `portway run` registers into.
DEFAULT_REGISTRY = "runs/registry"


def print_json(document) -> None:
    """Records as JSON on stdout: the one format every `--json` of the CLI prints."""
    print(json.dumps(document, indent=2, default=str))


def add_registry_argument(parser) -> None:
    parser.add_argument("--registry", default=None,
                        help=f"registry root, a directory or s3://bucket/prefix (default: ${REGISTRY_ENV} "
                             f"or {DEFAULT_REGISTRY})")


def open_registry_from_args(args):
    from portway.errors import RegistryError
    from portway.registry import open_registry

    root = args.registry or os.environ.get(REGISTRY_ENV) or DEFAULT_REGISTRY
    if not root.startswith("s3://") and not Path(root).expanduser().is_dir():
        # A typo must not look like an empty registry.
        raise RegistryError(f"No registry at {root}: the directory does not exist (--registry or ${REGISTRY_ENV}).")
    return open_registry(root)


def parse_exact_reference(reference: str) -> tuple[str, int]:
    """GROUP:VERSION with a number: a decision names the exact version it is about."""
    from portway.errors import ParameterError
    from portway.names import validate_name

    group, _, version = reference.partition(":")
    if not version.isdigit() or int(version) < 1:
        raise ParameterError(f"Model reference {reference!r} must name one version as GROUP:VERSION "
                             "(e.g. churn:3); approvals never apply to a moving target like :latest.")
    return validate_name(group, "model group"), int(version)


def register(subparsers) -> None:
    models = subparsers.add_parser("models", help="model registry: list, show, approve, reject, compare, events, gc")
    actions = models.add_subparsers(dest="models_command", metavar="ACTION", required=True)

    listing = actions.add_parser("list", help="versions of a group (or of every group) as a table")
    listing.add_argument("group", nargs="?", help="model group (default: every group)")
    listing.add_argument("--json", action="store_true", help="print the records as JSON")
    listing.set_defaults(func=_list)

    show = actions.add_parser("show", help="one version: metrics, lineage, status history")
    show.add_argument("reference", help="GROUP[:VERSION|:latest|:approved]")
    show.add_argument("--format", choices=("text", "md", "json"), default="text",
                      help="text (default), md (the model card) or json (the record)")
    show.add_argument("--json", dest="format", action="store_const", const="json", help="same as --format json")
    show.add_argument("--report", action="store_true", help="print where the version's report.html is")
    show.set_defaults(func=_show)

    for name, verb in (("approve", "PendingManualApproval -> Approved"),
                       ("reject", "PendingManualApproval or Approved -> Rejected (revokes an approval)")):
        decision = actions.add_parser(name, help=verb)
        decision.add_argument("reference", help="GROUP:VERSION")
        decision.add_argument("--reason", required=True, help="why: recorded in the history and the event")
        decision.add_argument("--webhook", default=None,
                              help="also POST the event to this URL (default: $PORTWAY_WEBHOOK_URL)")
        decision.set_defaults(func=_decide, status=name)

    compare = actions.add_parser("compare", help="metrics of two versions side by side, with deltas")
    compare.add_argument("first", help="GROUP:VERSION")
    compare.add_argument("second", help="GROUP:VERSION")
    compare.add_argument("--json", action="store_true", help="print the comparison as JSON")
    compare.add_argument("--allow-schema-mismatch", action="store_true",
                         help="compare versions trained on different features (refused by default)")
    compare.set_defaults(func=_compare)

    events = actions.add_parser("events", help="approval events of a group (what deploy automation reads)")
    events.add_argument("group")
    events.add_argument("--repair", action="store_true",
                        help="write any event a crash left unwritten (idempotent)")
    events.add_argument("--json", action="store_true", help="print the events as JSON")
    events.set_defaults(func=_events)

    gc = actions.add_parser("gc", help="find (and with --delete remove) artifact folders no version points at")
    gc.add_argument("--delete", action="store_true", help="delete them (default: a dry run that lists them)")
    gc.add_argument("--min-age", type=float, default=None, metavar="SECONDS",
                    help="leave folders younger than this alone: a registration in progress uploads before it "
                         "writes its record (default: 3600)")
    gc.add_argument("--json", action="store_true", help="print the folders as JSON")
    gc.set_defaults(func=_gc)

    for parser in (listing, show, compare, events, gc, *(actions.choices[n] for n in ("approve", "reject"))):
        add_registry_argument(parser)


def require_group(registry, group: str) -> None:
    """Like `models show nosuch`: a mistyped group must not look like an empty one (exit 2)."""
    from portway.errors import RegistryError

    if not registry.versions(group):
        known = registry.groups()
        raise RegistryError(f"Model group {group!r} has no versions in {registry.root_uri}"
                            + (f"; its groups: {', '.join(known)}." if known else "; the registry is empty."))


def _list(args) -> int:
    from portway.registry.views import list_table

    registry = open_registry_from_args(args)
    groups = [args.group] if args.group else registry.groups()
    if args.group:
        require_group(registry, args.group)
    everything, all_problems = {}, []
    for group in groups:
        records, problems = registry.records(group)
        everything[group] = records
        all_problems += problems
    if args.json:
        print_json({"groups": everything, "problems": all_problems})
    elif not any(everything.values()):
        print(f"no model versions in {registry.root_uri}" + (f" for group {args.group!r}" if args.group else ""))
    else:
        for group, records in everything.items():
            if len(groups) > 1:
                print(f"{group}:")
            print(list_table(records))
            if len(groups) > 1:
                print()
    for problem in all_problems:
        print(f"warning: {problem}", file=sys.stderr)
    return 0


def _show(args) -> int:
    from portway.registry.views import model_card, show_text

    registry = open_registry_from_args(args)
    record = registry.resolve(args.reference)
    ref = f"{record['group']}:{record['version']}"
    report_uri = (registry.store.uri(registry.artifact_key(record, "report.html"))
                  if "report.html" in record.get("files", []) else None)
    if args.report:
        if report_uri is None:  # asked for something that is not there: like `show nosuch`, exit 2
            from portway.errors import RegistryError

            raise RegistryError(f"{ref} has no report (its files: {', '.join(record.get('files', []))}).")
        print(report_uri)
        return 0
    if args.format == "json":
        print_json(record)
    elif args.format == "md":
        print(model_card(record, registry.read_artifact_json(record, "feature_schema.json"),
                         registry.read_artifact_json(record, "evaluation.json"), report_uri), end="")
    else:
        print(show_text(record))
    return 0


def _decide(args) -> int:
    from portway.registry import APPROVED, REJECTED

    group, version = parse_exact_reference(args.reference)
    registry = open_registry_from_args(args)
    status = APPROVED if args.status == "approve" else REJECTED
    result = registry.transition(group, version, status, args.reason, webhook=args.webhook)
    change = result["record"]["history"][-1]
    print(f"{group}:{version}: {change['from']} -> {change['status']} by {change['by']} at {change['at']}")
    print(f"  event: {result['event_uri']}")
    hook = result["webhook"]
    if hook is not None:
        outcome = f"HTTP {hook['status']}" if "status" in hook else hook["error"]
        print(f"  webhook: {hook['url']}: {outcome}" + ("" if hook["ok"] else " (not delivered; the decision stands)"))
    return 0


def _compare(args) -> int:
    from portway.registry.views import compare_table

    registry = open_registry_from_args(args)
    first, second = registry.resolve(args.first), registry.resolve(args.second)
    if not args.allow_schema_mismatch:
        from portway.registry.schema import check_comparable

        check_comparable(registry, first, second)
    if args.json:
        print_json(compare_document(first, second))
    else:
        print(compare_table(first, second))
    return 0


def compare_document(a: dict, b: dict) -> dict:
    """`models compare --json`: the same facts as the table (delta is second - first)."""
    from portway.steps.gate import LOWER_IS_BETTER

    label_a, label_b = f"{a['group']}:{a['version']}", f"{b['group']}:{b['version']}"
    ma, mb = a.get("metrics") or {}, b.get("metrics") or {}
    metrics = {}
    for name in dict.fromkeys([*ma, *mb]):
        va, vb = ma.get(name), mb.get(name)
        entry = {"first": va, "second": vb, "delta": None, "better": None}
        if isinstance(va, int | float) and isinstance(vb, int | float):
            delta = vb - va
            improved = delta < 0 if name in LOWER_IS_BETTER else delta > 0
            entry.update(delta=delta, better=None if delta == 0 else (label_b if improved else label_a))
        metrics[name] = entry
    pa = (a.get("lineage") or {}).get("parameters") or {}
    pb = (b.get("lineage") or {}).get("parameters") or {}
    return {
        "first": label_a, "second": label_b, "metrics": metrics,
        "approval_status": {"first": a.get("approval_status"), "second": b.get("approval_status")},
        "data_sha256": {"first": (a.get("lineage") or {}).get("data_sha256"),
                        "second": (b.get("lineage") or {}).get("data_sha256")},
        "parameters_changed": {k: {"first": pa.get(k), "second": pb.get(k)}
                               for k in sorted(set(pa) | set(pb)) if pa.get(k) != pb.get(k)},
    }


def _events(args) -> int:
    registry = open_registry_from_args(args)
    require_group(registry, args.group)
    if args.repair:
        for uri in registry.emit_missing_events(args.group):
            print(f"wrote missing event {uri}", file=sys.stderr if args.json else sys.stdout)
    if args.json:
        print_json({"group": args.group, "events": registry.events(args.group)})
        return 0
    for event in registry.events(args.group):
        print(f"{event['at']}  {event['group']}:{event['version']}  {event.get('from_status') or '-'} -> "
              f"{event['status']}  by {event['by']}  {event['event_uri']}")
    return 0


def _gc(args) -> int:
    from portway import exitcodes
    from portway.registry.gc import DEFAULT_MIN_AGE_SECONDS, delete_orphans, find_unreferenced

    registry = open_registry_from_args(args)
    min_age = DEFAULT_MIN_AGE_SECONDS if args.min_age is None else args.min_age
    orphans, skipped = find_unreferenced(registry, min_age_seconds=min_age)
    left = delete_orphans(registry, orphans) if args.delete else []
    for note in skipped:
        print(f"warning: {note}", file=sys.stderr)
    if args.json:
        print_json({"registry": registry.root_uri, "deleted": args.delete, "min_age_seconds": min_age,
                    "unreferenced": [o.to_json() for o in orphans], "not_deleted": left, "skipped": skipped})
    else:
        verb = "deleted" if args.delete else "would delete"
        for orphan in orphans:
            size = f", {orphan.bytes} bytes" if orphan.bytes is not None else ""
            print(f"{verb} {orphan.uri}  ({len(orphan.files)} file(s){size}, {orphan.age_seconds / 3600:.1f} h old)")
        summary = f"{len(orphans)} unreferenced artifact folder(s) in {registry.root_uri}"
        print(summary + ("" if args.delete or not orphans else "; rerun with --delete to remove them"))
    for key in left:
        print(f"error: could not delete {registry.store.uri(key)}", file=sys.stderr)
    return exitcodes.FAILED if left else exitcodes.OK
